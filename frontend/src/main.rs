//! Entry point of the WebAssembly app: mounts `App` into the page's body.

fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        console_error_panic_hook::set_once();
        leptos::mount::mount_to_body(frontend::App);
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!(
        "frontend is a WebAssembly app: build it with scripts/build-frontend and open it through `coincast serve`"
    );
}
