//! Process-wide thread settings, made first thing in `main`, before any other thread exists.
//!
//! Only training uses rayon here (candle's matrix products for the nets, hessboost's trees), and
//! it already runs one model a core, each on a one-thread pool of its own
//! (`models::train::on_one_core`). candle asks how many threads to use at every matrix product
//! and, unless `RAYON_NUM_THREADS` is set, answers by reading `/proc/cpuinfo` each time: 67,248
//! opens of that file in 40 s of training one coin (strace), and a sixth of a training run's CPU
//! time spent in the kernel. With the variable set to 1, ten coins' 30 min models trained in 58 s
//! instead of 75 s on 2 cores (22 s of system time down to 0.7 s), with the same ONNX bytes.

/// Sets `RAYON_NUM_THREADS` to 1 unless it is set (the operator's choice wins); `true` when it was
/// set here. Called first thing in `main`, before any other thread exists.
#[allow(unsafe_code)]
pub fn one_rayon_thread() -> bool {
    if std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return false;
    }
    // SAFETY: the environment is only unsound to change while another thread may read it; this
    // runs before the runtime, the allocator's first thread or any other thread is started.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    true
}
