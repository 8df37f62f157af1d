//! The model registry: the shipped ONNX models and their cards, loaded with tract at start,
//! validated, and swappable at run time (`reload`) without a restart. A coin and horizon whose
//! challenger the gate promoted (`model_versions`, see `predict::retrain`) is served from the
//! stored version instead of the shipped file; [`refresh`] reads those from the database and
//! swaps the whole set in at once, in every process that calls it.
//!
//! A model is refused (and the server does not start) when its card's feature version is not the
//! one this build computes, its feature names differ from what the spec produces, its ONNX file
//! does not match the card's sha256, or tract's output on the card's golden input differs from
//! the trainer's. A prediction records the id of the model that made it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use models::card::ModelCard;
use models::features::{FEATURE_VERSION, FeatureSpec};
use models::onnx::OnnxModel;
use sha2::{Digest, Sha256};
use shared::{Coin, Horizon};

use crate::db::versions::StoredModel;
use crate::ids::SeriesId;
use crate::predict::features::Reads;

/// Where a running model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The artifact in the models folder (shipped with the build).
    Shipped,
    /// A retrained challenger the gate promoted, at this time (Unix seconds).
    Promoted { at: i64 },
}

/// A validated model ready to predict.
pub struct LoadedModel {
    pub card: ModelCard,
    pub origin: Origin,
    pub spec: FeatureSpec,
    /// The stored series its features read (the card's names, parsed).
    pub series: Vec<SeriesId>,
    onnx: OnnxModel,
}

impl LoadedModel {
    /// What its features read (`predict::features`).
    pub fn reads(&self) -> Reads<'_> {
        Reads {
            coin: self.card.coin,
            bar_s: self.card.features.bar_seconds,
            spec: &self.spec,
            series: &self.series,
        }
    }

    /// P(up) for many feature rows at once (CPU work: call it off the async threads).
    pub fn predict_many(&self, xs: &[Vec<f32>]) -> anyhow::Result<Vec<f64>> {
        Ok(self.onnx.predict(xs)?.into_iter().map(f64::from).collect())
    }

    /// P(up) for one feature row (CPU work: call it off the async threads).
    pub fn predict(&self, x: &[f32]) -> anyhow::Result<f64> {
        let p = self.onnx.predict(&[x.to_vec()])?;
        p.first()
            .map(|p| f64::from(*p))
            .context("the model returned no output")
    }
}

type Models = BTreeMap<(Coin, Horizon), Arc<LoadedModel>>;

/// The running models.
pub struct Registry {
    dir: PathBuf,
    /// Only these coins' models are loaded (`None`: every model in the folder).
    only: Option<Vec<Coin>>,
    models: RwLock<Arc<Models>>,
    /// One [`refresh`] at a time: a reload that read the running versions before a promotion
    /// committed cannot swap its older set in after the promotion's own reload.
    reloading: tokio::sync::Mutex<()>,
}

impl Registry {
    /// Loads and validates every model card (and its ONNX file) in `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        Self::load_only(dir, None)
    }

    /// Loads the models of the served `coins` only (the configured list; see `crate::coins`).
    pub fn load_serving(dir: &Path, coins: &[Coin]) -> anyhow::Result<Self> {
        Self::load_only(dir, Some(coins.to_vec()))
    }

    fn load_only(dir: &Path, only: Option<Vec<Coin>>) -> anyhow::Result<Self> {
        let models = load_dir(dir, only.as_deref())?;
        Ok(Registry {
            dir: dir.to_path_buf(),
            only,
            models: RwLock::new(Arc::new(models)),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// Loads the folder again and swaps the models in at once; on any error the running models
    /// stay. Returns how many are loaded. (Promoted versions: [`refresh`].)
    pub fn reload(&self) -> anyhow::Result<usize> {
        self.reload_with(&[])
    }

    /// Loads the folder again, puts the promoted versions over it (one that does not validate is
    /// logged and left out: the shipped model serves), and swaps the set in at once.
    pub fn reload_with(&self, promoted: &[StoredModel]) -> anyhow::Result<usize> {
        let mut models = load_dir(&self.dir, self.only.as_deref())?;
        let wanted = |coin: Coin| self.only.as_ref().is_none_or(|only| only.contains(&coin));
        for stored in promoted {
            match validate_stored(stored) {
                Ok(model) if !wanted(model.card.coin) => {}
                Ok(model) => {
                    models.insert((model.card.coin, model.card.horizon), Arc::new(model));
                }
                Err(e) => tracing::error!(
                    error = %format!("{e:#}"),
                    "a promoted model does not load; the shipped one serves"
                ),
            }
        }
        let n = models.len();
        match self.models.write() {
            Ok(mut m) => *m = Arc::new(models),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(models),
        }
        Ok(n)
    }

    fn snapshot(&self) -> Arc<Models> {
        match self.models.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The model for a coin and horizon.
    pub fn get(&self, coin: Coin, horizon: Horizon) -> Option<Arc<LoadedModel>> {
        self.snapshot().get(&(coin, horizon)).cloned()
    }

    /// Every model, by coin and horizon.
    pub fn all(&self) -> Vec<Arc<LoadedModel>> {
        self.snapshot().values().cloned().collect()
    }

    /// The coins with a model, in order.
    pub fn coins(&self) -> Vec<Coin> {
        let mut coins: Vec<Coin> = self.snapshot().keys().map(|(c, _)| *c).collect();
        coins.dedup();
        coins
    }

    /// The coins and horizons with a model.
    pub fn served(&self) -> Vec<(Coin, Horizon)> {
        self.snapshot().keys().copied().collect()
    }
}

fn load_dir(dir: &Path, only: Option<&[Coin]>) -> anyhow::Result<Models> {
    let cards = models::train::read_cards(dir)
        .with_context(|| format!("reading model cards in {}", dir.display()))?;
    anyhow::ensure!(!cards.is_empty(), "no model cards in {}", dir.display());
    let mut out = Models::new();
    for card in cards
        .into_iter()
        .filter(|c| only.is_none_or(|only| only.contains(&c.coin)))
    {
        let model = validate(dir, card)?;
        out.insert((model.card.coin, model.card.horizon), Arc::new(model));
    }
    Ok(out)
}

fn validate(dir: &Path, card: ModelCard) -> anyhow::Result<LoadedModel> {
    let path = dir.join(&card.onnx_file);
    let bytes =
        std::fs::read(&path).with_context(|| format!("model {}: reading {}", card.id, path.display()))?;
    validate_bytes(card, &bytes, Origin::Shipped)
}

fn validate_stored(stored: &StoredModel) -> anyhow::Result<LoadedModel> {
    let card: ModelCard = serde_json::from_str(&stored.card).context("a stored model card")?;
    validate_bytes(
        card,
        &stored.onnx,
        Origin::Promoted {
            at: stored.decided_at,
        },
    )
}

/// Checks a card against this build and its ONNX bytes (sha256, golden output).
pub fn validate_bytes(card: ModelCard, bytes: &[u8], origin: Origin) -> anyhow::Result<LoadedModel> {
    let id = card.id.clone();
    anyhow::ensure!(
        card.features.version == FEATURE_VERSION,
        "model {id}: feature version {} but this server computes version {FEATURE_VERSION}: retrain it",
        card.features.version
    );
    let spec = card.spec();
    let series = spec
        .series
        .iter()
        .map(|name| name.parse::<SeriesId>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("model {id}: {e}"))?;
    anyhow::ensure!(
        spec.names() == card.features.names,
        "model {id}: its feature names are not the ones this server builds for its spec"
    );
    let sha = format!("{:x}", Sha256::digest(bytes));
    anyhow::ensure!(
        sha == card.onnx_sha256,
        "model {id}: {} does not match its card's sha256",
        card.onnx_file
    );
    let onnx = OnnxModel::from_bytes(bytes, card.features.names.len())
        .with_context(|| format!("model {id}: loading"))?;
    let p = onnx.predict(std::slice::from_ref(&card.golden.input))?;
    let p = p.first().copied().unwrap_or(f32::NAN);
    anyhow::ensure!(
        (p - card.golden.p_up).abs() < 1e-4,
        "model {id}: gives {p} on its golden input, the trainer gave {}",
        card.golden.p_up
    );
    Ok(LoadedModel {
        card,
        origin,
        spec,
        series,
        onnx,
    })
}

/// [`refresh`], logged: true when the new set is in (`why` says what asked for it).
pub async fn reload_logged(db: &impl sea_orm::ConnectionTrait, registry: &Arc<Registry>, why: &str) -> bool {
    match refresh(db, registry).await {
        Ok(n) => {
            tracing::info!(models = n, why, "models reloaded");
            true
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), why, "model reload failed; the running models stay");
            false
        }
    }
}

/// Reads the running versions from the database and swaps the registry's models (shipped, with
/// the promoted ones over them) in at once, off the async threads; on any error the running
/// models stay. Returns how many are loaded. Reloads run one at a time, each reading the
/// versions after the one before it swapped, so the last to start wins: a reload heard from
/// another process while this one promotes never puts the old champion back.
pub async fn refresh(db: &impl sea_orm::ConnectionTrait, registry: &Arc<Registry>) -> anyhow::Result<usize> {
    let _one = registry.reloading.lock().await;
    let promoted = crate::db::versions::running(db).await?;
    let r = registry.clone();
    tokio::task::spawn_blocking(move || r.reload_with(&promoted)).await?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/artifacts")
    }

    #[test]
    fn the_shipped_models_load_and_a_tampered_card_is_refused() {
        let registry = Registry::load(&shipped()).unwrap();
        // Ten coins (the ones shared::KNOWN_COINS lists) by six horizons.
        assert_eq!(registry.all().len(), 60);
        assert_eq!(
            Registry::load_serving(&shipped(), &[Coin::BTC, Coin::LTC, Coin::XRP])
                .unwrap()
                .all()
                .len(),
            18,
            "only the served coins' models"
        );
        let m = registry.get(Coin::BTC, Horizon::H1).unwrap();
        let p = m.predict(&m.card.golden.input).unwrap();
        assert!((p - f64::from(m.card.golden.p_up)).abs() < 1e-5);

        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(shipped()).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
        let registry = Registry::load(dir.path()).unwrap();
        let card = dir.path().join("XRP-2h.json");
        let text = std::fs::read_to_string(&card).unwrap();
        let older = FEATURE_VERSION - 1;
        let tampered = text.replace(
            &format!("\"version\": {FEATURE_VERSION}"),
            &format!("\"version\": {older}"),
        );
        assert_ne!(tampered, text, "the card names its feature version");
        std::fs::write(&card, tampered).unwrap();
        let err = registry.reload().unwrap_err().to_string();
        assert!(err.contains(&format!("feature version {older}")), "{err}");
        assert_eq!(
            registry.all().len(),
            60,
            "a failed reload keeps the running models"
        );
    }
}
