//! Feed-forward nets (logistic regression is the net with no hidden layer), trained with candle
//! on the CPU, seeded and bitwise reproducible: weights start from our own seeded generator (the
//! CPU device cannot be seeded) and batches are shuffled by it.
//!
//! A trained [`Net`] carries its input scaling; `predict` is a plain-Rust forward pass that matches
//! the exported ONNX graph (the golden test checks this to 1e-5).

use anyhow::Context;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use serde::{Deserialize, Serialize};

/// Which model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ModelKind {
    /// Logistic regression on the standardised features.
    Logistic,
    /// A feed-forward net with these hidden layer widths (ReLU).
    Mlp { hidden: Vec<usize> },
    /// Gradient-boosted trees of at most this depth (`gbm`; trained by `fitted::fit`).
    Gbm { max_depth: usize },
}

impl ModelKind {
    /// A short name: `logistic`, `mlp-32-16`.
    pub fn name(&self) -> String {
        match self {
            ModelKind::Logistic => "logistic".into(),
            ModelKind::Mlp { hidden } => {
                let widths: Vec<String> = hidden.iter().map(ToString::to_string).collect();
                format!("mlp-{}", widths.join("-"))
            }
            ModelKind::Gbm { max_depth } => format!("gbm-d{max_depth}"),
        }
    }

    /// The number of weight layers (1 for logistic regression); a tree model's most levels.
    pub fn depth(&self) -> usize {
        match self {
            ModelKind::Logistic => 1,
            ModelKind::Mlp { hidden } => hidden.len() + 1,
            ModelKind::Gbm { max_depth } => *max_depth,
        }
    }

    fn hidden(&self) -> &[usize] {
        match self {
            ModelKind::Logistic | ModelKind::Gbm { .. } => &[],
            ModelKind::Mlp { hidden } => hidden,
        }
    }
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 12,
            batch_size: 256,
            learning_rate: 3e-3,
            weight_decay: 1e-3,
            seed: 20_261_124,
        }
    }
}

/// One dense layer: `out = W x + b` with `W` as `[out][in]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
}

/// A trained net with its input scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Net {
    pub kind: ModelKind,
    /// Per-feature mean and standard deviation of the training rows.
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// Layers in order; ReLU between them, sigmoid after the last.
    pub layers: Vec<Dense>,
}

impl Net {
    /// P(UP) for one raw feature row (plain Rust, same arithmetic order as the ONNX graph).
    pub fn predict_one(&self, x: &[f32]) -> f32 {
        let mut h: Vec<f32> = x
            .iter()
            .zip(&self.mean)
            .zip(&self.std)
            .map(|((v, m), s)| (v - m) / s)
            .collect();
        for (k, layer) in self.layers.iter().enumerate() {
            let mut next: Vec<f32> = layer
                .weights
                .iter()
                .zip(&layer.bias)
                .map(|(row, b)| row.iter().zip(&h).map(|(w, v)| w * v).sum::<f32>() + b)
                .collect();
            if k + 1 < self.layers.len() {
                next.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            h = next;
        }
        1.0 / (1.0 + (-h[0]).exp())
    }

    /// P(UP) for many rows.
    pub fn predict(&self, x: &[Vec<f32>]) -> Vec<f64> {
        x.iter().map(|row| f64::from(self.predict_one(row))).collect()
    }

    /// The number of inputs.
    pub fn inputs(&self) -> usize {
        self.mean.len()
    }
}

/// SplitMix64: small, seedable, good enough for initial weights and shuffles.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Mean and standard deviation per column (std floored so constant columns do not divide by 0).
pub fn standardizer(x: &[Vec<f32>]) -> (Vec<f32>, Vec<f32>) {
    let f = x.first().map_or(0, Vec::len);
    let n = x.len().max(1) as f64;
    let mut mean = vec![0f64; f];
    for row in x {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += f64::from(*v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0f64; f];
    for row in x {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            let d = f64::from(*v) - m;
            *s += d * d;
        }
    }
    let std = var.iter().map(|s| ((s / n).sqrt().max(1e-6)) as f32).collect();
    (mean.iter().map(|m| *m as f32).collect(), std)
}

/// Trains `kind` on rows `x` with labels `y`.
pub fn train(kind: &ModelKind, x: &[Vec<f32>], y: &[bool], cfg: &TrainConfig) -> anyhow::Result<Net> {
    anyhow::ensure!(!x.is_empty() && x.len() == y.len(), "no training rows");
    anyhow::ensure!(
        !matches!(kind, ModelKind::Gbm { .. }),
        "a tree model is trained by fitted::fit"
    );
    let dev = Device::Cpu;
    let (mean, std) = standardizer(x);
    let f = mean.len();
    let n = x.len();
    let flat: Vec<f32> = x
        .iter()
        .flat_map(|row| row.iter().zip(&mean).zip(&std).map(|((v, m), s)| (v - m) / s))
        .collect();
    let xs = Tensor::from_vec(flat, (n, f), &dev)?;
    let ys = Tensor::from_vec(
        y.iter().map(|&u| if u { 1f32 } else { 0f32 }).collect::<Vec<_>>(),
        (n, 1),
        &dev,
    )?;

    let mut rng = Rng::new(cfg.seed);
    let mut widths = vec![f];
    widths.extend_from_slice(kind.hidden());
    widths.push(1);
    let mut params: Vec<(Var, Var)> = Vec::new();
    let layers = widths.len() - 1;
    for (k, w) in widths.windows(2).enumerate() {
        let (fan_in, fan_out) = (w[0], w[1]);
        // He-uniform for ReLU layers; the output layer starts small, so P(UP) starts near 0.5.
        let bound = if k + 1 < layers {
            (6.0 / fan_in as f64).sqrt()
        } else {
            0.1 / (fan_in as f64).sqrt()
        };
        let init: Vec<f32> = (0..fan_in * fan_out)
            .map(|_| ((rng.uniform() * 2.0 - 1.0) * bound) as f32)
            .collect();
        params.push((
            Var::from_vec(init, (fan_out, fan_in), &dev)?,
            Var::zeros(fan_out, DType::F32, &dev)?,
        ));
    }
    let vars: Vec<Var> = params.iter().flat_map(|(w, b)| [w.clone(), b.clone()]).collect();
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: cfg.learning_rate,
            weight_decay: cfg.weight_decay,
            ..Default::default()
        },
    )?;

    let mut order: Vec<u32> = (0..n as u32).collect();
    for _ in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for chunk in order.chunks(cfg.batch_size.max(1)) {
            let idx = Tensor::new(chunk, &dev)?;
            let xb = xs.index_select(&idx, 0)?;
            let yb = ys.index_select(&idx, 0)?;
            let mut h = xb;
            for (k, (w, b)) in params.iter().enumerate() {
                h = h.matmul(&w.as_tensor().t()?)?.broadcast_add(b.as_tensor())?;
                if k + 1 < params.len() {
                    h = h.relu()?;
                }
            }
            // Binary cross-entropy on logits, written to stay finite: relu(z) - z*y + ln(1 + e^-|z|).
            let loss =
                (h.relu()? - (&h * &yb)? + h.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?.mean_all()?;
            opt.backward_step(&loss)?;
        }
    }

    let layers = params
        .iter()
        .map(|(w, b)| {
            Ok(Dense {
                weights: w.as_tensor().to_vec2::<f32>()?,
                bias: b.as_tensor().to_vec1::<f32>()?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .context("reading trained weights")?;
    Ok(Net {
        kind: kind.clone(),
        mean,
        std,
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows where UP is (mostly) x0 + x1 > 0, with some noise.
    fn toy(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let a = rng.uniform() as f32 * 2.0 - 1.0;
            let b = rng.uniform() as f32 * 2.0 - 1.0;
            let noise = rng.uniform() as f32 * 0.4 - 0.2;
            x.push(vec![a * 10.0 + 3.0, b * 0.01, rng.uniform() as f32]);
            y.push(a + b * 0.5 + noise > 0.0);
        }
        (x, y)
    }

    #[test]
    fn training_is_deterministic_for_a_seed() {
        let (x, y) = toy(500, 1);
        let kind = ModelKind::Mlp { hidden: vec![8, 4] };
        let cfg = TrainConfig {
            epochs: 3,
            ..TrainConfig::default()
        };
        let a = train(&kind, &x, &y, &cfg).unwrap();
        let b = train(&kind, &x, &y, &cfg).unwrap();
        assert_eq!(a, b);
        let c = train(&kind, &x, &y, &TrainConfig { seed: 7, ..cfg }).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn models_learn_a_learnable_rule() {
        let (x, y) = toy(2000, 2);
        let (xt, yt) = toy(500, 3);
        for kind in [ModelKind::Logistic, ModelKind::Mlp { hidden: vec![16, 8] }] {
            let cfg = TrainConfig {
                epochs: 30,
                learning_rate: 1e-2,
                ..TrainConfig::default()
            };
            let net = train(&kind, &x, &y, &cfg).unwrap();
            let p = net.predict(&xt);
            let hits = p
                .iter()
                .zip(&yt)
                .filter(|(p, y)| crate::predicts_up(**p) == **y)
                .count();
            assert!(
                hits as f64 / yt.len() as f64 > 0.85,
                "{}: {hits}/{}",
                kind.name(),
                yt.len()
            );
        }
    }

    #[test]
    fn names_and_depths() {
        assert_eq!(ModelKind::Logistic.name(), "logistic");
        assert_eq!(ModelKind::Mlp { hidden: vec![32, 16] }.name(), "mlp-32-16");
        assert_eq!(ModelKind::Mlp { hidden: vec![32, 16] }.depth(), 3);
    }
}
