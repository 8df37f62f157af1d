//! One trained model of any kind: a net (logistic regression or MLP, `nn`) or gradient-boosted
//! trees (`gbm`), fitted, calibrated and exported the same way by `train`.

use crate::calibration::Platt;
use crate::gbm::{self, Gbm, GbmParams};
use crate::nn::{self, ModelKind, Net, TrainConfig};
use crate::onnx::to_onnx;

/// A trained model.
#[derive(Debug)]
pub enum Fitted {
    Net(Net),
    Gbm(Box<Gbm>),
}

/// The share of a tree model's training rows (its newest) that decides when boosting stops.
const EARLY_STOPPING_SHARE: f64 = 0.2;
/// Fewer early-stopping rows than this: a fixed number of rounds instead.
const MIN_EARLY_STOPPING_ROWS: usize = 200;
/// Rounds of a tree model trained on too few rows to early-stop.
const FIXED_ROUNDS: usize = 60;

/// Trains `kind` on rows `x` (made at times `ts`, ascending) with labels `y` that look `horizon_s`
/// ahead.
///
/// A tree model early-stops on the newest fifth of these rows (only rows the caller gave, which
/// all end before whatever it then tests on), trained on the rows before it whose labels end
/// before that fifth starts (purged); it is then refitted on every row for the number of rounds
/// that stopping chose.
pub fn fit(
    kind: &ModelKind,
    x: &[Vec<f32>],
    y: &[bool],
    ts: &[i64],
    horizon_s: i64,
    cfg: &TrainConfig,
) -> anyhow::Result<Fitted> {
    anyhow::ensure!(
        x.len() == y.len() && x.len() == ts.len(),
        "{} rows, {} labels, {} times",
        x.len(),
        y.len(),
        ts.len()
    );
    let ModelKind::Gbm { max_depth } = kind else {
        return Ok(Fitted::Net(nn::train(kind, x, y, cfg)?));
    };
    let params = GbmParams {
        max_depth: *max_depth,
        seed: cfg.seed,
        ..GbmParams::default()
    };
    let mut sorted = ts.to_vec();
    sorted.sort_unstable();
    let cut = sorted
        .get(((sorted.len() as f64) * (1.0 - EARLY_STOPPING_SHARE)) as usize)
        .copied()
        .unwrap_or(i64::MAX);
    let pick = |keep: &dyn Fn(i64) -> bool| -> (Vec<Vec<f32>>, Vec<bool>) {
        ts.iter()
            .enumerate()
            .filter(|(_, t)| keep(**t))
            .map(|(i, _)| (x[i].clone(), y[i]))
            .unzip()
    };
    let (early_x, early_y) = pick(&|t| t >= cut);
    let (before_x, before_y) = pick(&|t| t + horizon_s <= cut);
    let rounds = if early_x.len() >= MIN_EARLY_STOPPING_ROWS && before_x.len() >= MIN_EARLY_STOPPING_ROWS {
        gbm::train(&before_x, &before_y, Some((&early_x, &early_y)), &params)?.rounds
    } else {
        FIXED_ROUNDS
    };
    let all = GbmParams {
        rounds: rounds.max(1),
        early_stopping: 0,
        ..params
    };
    Ok(Fitted::Gbm(Box::new(gbm::train(x, y, None, &all)?)))
}

impl Fitted {
    /// P(UP) of each row (calibrated once [`Fitted::calibrate`] has been called).
    pub fn predict(&self, x: &[Vec<f32>]) -> anyhow::Result<Vec<f64>> {
        match self {
            Fitted::Net(net) => Ok(net.predict(x)),
            Fitted::Gbm(g) => Ok(g.predict(x)?.into_iter().map(f64::from).collect()),
        }
    }

    /// P(UP) of one row.
    pub fn predict_one(&self, x: &[f32]) -> anyhow::Result<f32> {
        match self {
            Fitted::Net(net) => Ok(net.predict_one(x)),
            Fitted::Gbm(g) => g
                .predict(&[x.to_vec()])?
                .first()
                .copied()
                .ok_or_else(|| anyhow::anyhow!("no prediction")),
        }
    }

    /// Folds a Platt scaling into the model, so that [`Fitted::predict`] and the exported graph
    /// both give the calibrated P(UP): a net's last layer is scaled by `a` and `b` joins its bias
    /// (its output is the sigmoid of that layer); a tree model scales its leaves (see `gbm`).
    pub fn calibrate(&mut self, platt: Platt) {
        match self {
            Fitted::Net(net) => {
                if let Some(last) = net.layers.last_mut() {
                    let (a, b) = (platt.a as f32, platt.b as f32);
                    for row in &mut last.weights {
                        row.iter_mut().for_each(|w| *w *= a);
                    }
                    last.bias.iter_mut().for_each(|v| *v = a * *v + b);
                }
            }
            Fitted::Gbm(g) => g.platt = platt,
        }
    }

    /// The ONNX bytes, `metadata` stored in the model.
    pub fn to_onnx(&self, metadata: &[(&str, String)]) -> anyhow::Result<Vec<u8>> {
        match self {
            Fitted::Net(net) => Ok(to_onnx(net, metadata)),
            Fitted::Gbm(g) => g.to_onnx(metadata),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::OnnxModel;

    fn rows(n: usize) -> (Vec<Vec<f32>>, Vec<bool>, Vec<i64>) {
        let mut s = 11_u64;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 33) as f32) / ((1_u64 << 31) as f32) - 0.5
        };
        let x: Vec<Vec<f32>> = (0..n).map(|_| vec![next(), next(), next()]).collect();
        let y = x.iter().map(|r| r[0] + 0.3 * next() > 0.0).collect();
        let ts = (0..n as i64).map(|i| i * 300).collect();
        (x, y, ts)
    }

    #[test]
    fn a_calibration_folds_into_every_kind_and_its_export() {
        let (x, y, ts) = rows(3_000);
        let platt = Platt { a: 0.6, b: 0.1 };
        for kind in [
            ModelKind::Logistic,
            ModelKind::Mlp { hidden: vec![4] },
            ModelKind::Gbm { max_depth: 2 },
        ] {
            let cfg = TrainConfig {
                epochs: 2,
                ..TrainConfig::default()
            };
            let mut m = fit(&kind, &x, &y, &ts, 3_600, &cfg).unwrap();
            let raw = m.predict(&x[..50]).unwrap();
            m.calibrate(platt);
            let calibrated = m.predict(&x[..50]).unwrap();
            let served = OnnxModel::from_bytes(&m.to_onnx(&[]).unwrap(), 3)
                .unwrap()
                .predict(&x[..50])
                .unwrap();
            for ((r, c), s) in raw.iter().zip(&calibrated).zip(&served) {
                assert!((platt.apply(*r) - c).abs() < 1e-5, "{kind:?}: {r} -> {c}");
                assert!((c - f64::from(*s)).abs() < 1e-5, "{kind:?}: {c} served as {s}");
            }
        }
    }

    #[test]
    fn a_tree_model_is_deterministic_and_learns() {
        let (x, y, ts) = rows(3_000);
        let kind = ModelKind::Gbm { max_depth: 2 };
        let cfg = TrainConfig::default();
        let a = fit(&kind, &x, &y, &ts, 3_600, &cfg).unwrap();
        let b = fit(&kind, &x, &y, &ts, 3_600, &cfg).unwrap();
        assert_eq!(a.to_onnx(&[]).unwrap(), b.to_onnx(&[]).unwrap());
        let p = a.predict(&x).unwrap();
        let hits = p.iter().zip(&y).filter(|(p, u)| (**p > 0.5) == **u).count();
        assert!(hits as f64 / y.len() as f64 > 0.7, "{hits}");
    }
}
