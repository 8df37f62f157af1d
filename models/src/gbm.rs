//! Gradient-boosted trees: a binary classifier of UP trained with hessboost (Apache-2.0;
//! deterministic on any thread count, XGBoost's tree format), early-stopped on an evaluation set
//! the caller chooses (the selection folds, never a later window), and exported as an ONNX-ML
//! `TreeEnsembleClassifier` that tract runs to the same P(UP).
//!
//! Export layout (what tract 0.23 runs correctly): one class weight per leaf, all on class 0, with
//! `classlabels_int64s = [0, 1]` and `post_transform = LOGISTIC`, so `probabilities[:, 1]` is
//! sigmoid(margin); splits are `BRANCH_LT` on f32 thresholds (hessboost sends `x < split_cond`
//! left, which is the true branch); node ids are renumbered densely per tree; the intercept
//! (`base_score`, a margin) is a tree of one leaf. A `Slice` node keeps `probabilities[:, 1]` as
//! `p_up [N, 1]`, the output every coincast model has.

use anyhow::Context;
use hessboost::prelude::{DMatrix, Iterations, Objective, RegLoss, Trainer, TrainingParams, TreeMethod};
use prost::Message;
use tract_onnx::pb::{
    AttributeProto, ModelProto, TensorProto, attribute_proto::AttributeType, tensor_proto::DataType,
};

use crate::calibration::Platt;
use crate::onnx::{INPUT, OUTPUT, node};

/// The hyper-parameters of one fit.
#[derive(Debug, Clone, PartialEq)]
pub struct GbmParams {
    /// Most boosting rounds (early stopping usually ends sooner).
    pub rounds: usize,
    /// Rounds without improvement of the evaluation log loss before stopping.
    pub early_stopping: usize,
    pub max_depth: usize,
    /// Learning rate.
    pub eta: f64,
    pub min_child_weight: f64,
    /// L2 regularisation of leaf weights.
    pub lambda: f64,
    /// Share of rows each tree sees.
    pub subsample: f64,
    pub seed: u64,
}

impl Default for GbmParams {
    fn default() -> Self {
        GbmParams {
            rounds: 300,
            early_stopping: 20,
            max_depth: 3,
            eta: 0.05,
            min_child_weight: 20.0,
            lambda: 1.0,
            subsample: 0.8,
            seed: 20_261_124,
        }
    }
}

/// A trained ensemble, cut at its best round when it was early-stopped.
#[derive(Debug)]
pub struct Gbm {
    model: hessboost::model::BoostedModel,
    features: usize,
    /// Boosting rounds kept.
    pub rounds: usize,
    /// The calibration folded into every probability (the identity until [`Gbm::calibrate`]).
    pub platt: Platt,
}

fn matrix(rows: &[Vec<f32>], up: &[bool]) -> anyhow::Result<DMatrix> {
    let features = rows.first().map_or(0, Vec::len);
    anyhow::ensure!(features > 0, "no rows or no features");
    anyhow::ensure!(rows.len() == up.len(), "{} rows, {} labels", rows.len(), up.len());
    anyhow::ensure!(
        rows.iter().all(|r| r.len() == features),
        "rows of different widths"
    );
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    let labels: Vec<f32> = up.iter().map(|&u| f32::from(u)).collect();
    Ok(DMatrix::from_dense(&flat, rows.len(), features)?.with_labels(&labels)?)
}

/// Trains on `rows` (UP labels `up`); with `eval`, stops once its log loss has not improved for
/// `params.early_stopping` rounds and keeps the best round.
pub fn train(
    rows: &[Vec<f32>],
    up: &[bool],
    eval: Option<(&[Vec<f32>], &[bool])>,
    params: &GbmParams,
) -> anyhow::Result<Gbm> {
    let features = rows.first().map_or(0, Vec::len);
    let dtrain = matrix(rows, up)?;
    let deval = eval.map(|(r, u)| matrix(r, u)).transpose()?;
    let hp = TrainingParams::builder()
        .objective(Objective::BinaryLogistic(RegLoss::default()))
        .tree_method(TreeMethod::Hist)
        .max_depth(params.max_depth)
        .eta(params.eta)
        .min_child_weight(params.min_child_weight)
        .lambda(params.lambda)
        .subsample(params.subsample)
        .seed(params.seed)
        .build()?;
    let mut trainer = Trainer::new(&hp, &dtrain, params.rounds.max(1));
    if let Some(d) = &deval {
        trainer = trainer.eval(d, "selection");
        if let Some(n) = std::num::NonZeroUsize::new(params.early_stopping) {
            trainer = trainer.early_stopping_rounds(n);
        }
    }
    let model = trainer.train()?.model;
    let model = match model.best_iteration() {
        Some(best) => model.slice(0..=best, 1)?,
        None => model,
    };
    let rounds = model.num_trees();
    Ok(Gbm {
        model,
        features,
        rounds,
        platt: Platt::IDENTITY,
    })
}

impl Gbm {
    /// P(UP) of each row, as the trainer computes it.
    pub fn predict(&self, rows: &[Vec<f32>]) -> anyhow::Result<Vec<f32>> {
        anyhow::ensure!(
            rows.iter().all(|r| r.len() == self.features),
            "every row needs {} features",
            self.features
        );
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        // Every kept round (the model was cut at its best one).
        let p = self.model.predict_rows(&flat, Iterations::from(..))?;
        Ok(p.into_vec()
            .into_iter()
            .map(|p| self.platt.apply(f64::from(p)) as f32)
            .collect())
    }

    /// Fits a Platt scaling of this model's probabilities on `rows` (the selection folds) and folds
    /// it in: [`Gbm::predict`] and the exported graph both give the calibrated P(UP).
    pub fn calibrate(&mut self, rows: &[Vec<f32>], up: &[bool]) -> anyhow::Result<Platt> {
        self.platt = Platt::IDENTITY;
        let p: Vec<f64> = self.predict(rows)?.into_iter().map(f64::from).collect();
        self.platt = Platt::fit(&p, up);
        Ok(self.platt)
    }

    /// The number of features a row has.
    pub fn features(&self) -> usize {
        self.features
    }

    /// The ONNX bytes (see the module's documentation); `metadata` pairs are stored in the model.
    pub fn to_onnx(&self, metadata: &[(&str, String)]) -> anyhow::Result<Vec<u8>> {
        let mut e = Ensemble::default();
        // Platt's a scales every leaf's margin; its b joins the intercept.
        let (a, b) = (self.platt.a as f32, self.platt.b as f32);
        for (t, (tree, weight)) in self
            .model
            .trees()
            .iter()
            .zip(self.model.tree_weights())
            .enumerate()
        {
            anyhow::ensure!(!tree.has_categorical_splits(), "tree {t} has categorical splits");
            anyhow::ensure!(!tree.is_vector_leaf(), "tree {t} has vector leaves");
            e.tree(t, tree, weight * a)?;
        }
        // The intercept: a tree of one leaf.
        let t = self.model.trees().len();
        e.leaf(t, 0, a * self.model.base_score() + b);
        Ok(e.model(self.features, metadata).encode_to_vec())
    }
}

/// The `TreeEnsembleClassifier` attributes, tree by tree.
#[derive(Default)]
struct Ensemble {
    tree_ids: Vec<i64>,
    node_ids: Vec<i64>,
    features: Vec<i64>,
    values: Vec<f32>,
    modes: Vec<Vec<u8>>,
    true_ids: Vec<i64>,
    false_ids: Vec<i64>,
    class_tree_ids: Vec<i64>,
    class_node_ids: Vec<i64>,
    class_weights: Vec<f32>,
}

impl Ensemble {
    fn leaf(&mut self, tree: usize, id: i64, weight: f32) {
        let tree = i64::try_from(tree).unwrap_or(i64::MAX);
        self.tree_ids.push(tree);
        self.node_ids.push(id);
        self.features.push(0);
        self.values.push(0.0);
        self.modes.push(b"LEAF".to_vec());
        self.true_ids.push(0);
        self.false_ids.push(0);
        self.class_tree_ids.push(tree);
        self.class_node_ids.push(id);
        self.class_weights.push(weight);
    }

    /// One tree's reachable nodes, numbered densely in depth-first order from its root.
    fn tree(&mut self, t: usize, tree: &hessboost::tree::RegTree, weight: f32) -> anyhow::Result<()> {
        let nodes = tree.nodes();
        // (hessboost node, dense id), depth first.
        let mut ids = std::collections::HashMap::new();
        let mut order = Vec::new();
        let mut stack = vec![0_usize];
        while let Some(n) = stack.pop() {
            let node = nodes
                .get(n)
                .with_context(|| format!("tree {t}: node {n} is missing"))?;
            ids.insert(n, i64::try_from(order.len())?);
            order.push(n);
            if !node.is_leaf() {
                stack.push(usize::try_from(node.right)?);
                stack.push(usize::try_from(node.left)?);
            }
        }
        let tree_id = i64::try_from(t)?;
        for &n in &order {
            let node = &nodes[n];
            let id = ids[&n];
            if node.is_leaf() {
                self.leaf(t, id, node.leaf_value * weight);
                continue;
            }
            self.tree_ids.push(tree_id);
            self.node_ids.push(id);
            self.features.push(i64::from(node.split_feature));
            self.values.push(node.split_cond);
            self.modes.push(b"BRANCH_LT".to_vec());
            self.true_ids.push(ids[&usize::try_from(node.left)?]);
            self.false_ids.push(ids[&usize::try_from(node.right)?]);
        }
        Ok(())
    }

    fn model(self, features: usize, metadata: &[(&str, String)]) -> ModelProto {
        let ints = |name: &str, ints: Vec<i64>| AttributeProto {
            name: name.into(),
            r#type: AttributeType::Ints as i32,
            ints,
            ..Default::default()
        };
        let floats = |name: &str, floats: Vec<f32>| AttributeProto {
            name: name.into(),
            r#type: AttributeType::Floats as i32,
            floats,
            ..Default::default()
        };
        let n_classes = self.class_weights.len();
        let mut ensemble = node(
            "TreeEnsembleClassifier",
            &[INPUT],
            "label",
            vec![
                ints("classlabels_int64s", vec![0, 1]),
                ints("nodes_treeids", self.tree_ids),
                ints("nodes_nodeids", self.node_ids),
                ints("nodes_featureids", self.features),
                floats("nodes_values", self.values),
                AttributeProto {
                    name: "nodes_modes".into(),
                    r#type: AttributeType::Strings as i32,
                    strings: self.modes,
                    ..Default::default()
                },
                ints("nodes_truenodeids", self.true_ids),
                ints("nodes_falsenodeids", self.false_ids),
                ints("class_treeids", self.class_tree_ids),
                ints("class_nodeids", self.class_node_ids),
                ints("class_ids", vec![0; n_classes]),
                floats("class_weights", self.class_weights),
                AttributeProto {
                    name: "post_transform".into(),
                    r#type: AttributeType::String as i32,
                    s: b"LOGISTIC".to_vec(),
                    ..Default::default()
                },
            ],
        );
        ensemble.output.push("probabilities".into());
        ensemble.domain = "ai.onnx.ml".into();
        let int64 = |name: &str, v: i64| TensorProto {
            name: name.into(),
            dims: vec![1],
            data_type: DataType::Int64 as i32,
            int64_data: vec![v],
            ..Default::default()
        };
        let slice = node(
            "Slice",
            &["probabilities", "up_from", "up_to", "up_axis"],
            OUTPUT,
            vec![],
        );
        crate::onnx::model(
            vec![ensemble, slice],
            vec![int64("up_from", 1), int64("up_to", 2), int64("up_axis", 1)],
            features,
            "coincast gradient-boosted trees: P(UP) from the raw feature vector",
            &[("", 17), ("ai.onnx.ml", 3)],
            metadata,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::OnnxModel;

    /// Rows whose first feature says UP most of the time, the second is noise (a fixed LCG, so
    /// the test data is the same everywhere).
    fn planted(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<bool>) {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 33) as f32) / ((1_u64 << 31) as f32) - 0.5
        };
        let mut rows = Vec::new();
        let mut up = Vec::new();
        for _ in 0..n {
            let (a, b, noise) = (next(), next(), next());
            rows.push(vec![a, b]);
            up.push(a + 0.3 * noise > 0.0);
        }
        (rows, up)
    }

    #[test]
    fn tract_runs_the_exported_trees_like_the_trainer() {
        let (rows, up) = planted(3_000, 1);
        let (eval_rows, eval_up) = planted(1_000, 2);
        let gbm = train(&rows, &up, Some((&eval_rows, &eval_up)), &GbmParams::default()).unwrap();
        assert!(gbm.rounds >= 2, "{} rounds", gbm.rounds);
        let (golden, golden_up) = planted(500, 3);
        let trainer = gbm.predict(&golden).unwrap();
        let hits = trainer
            .iter()
            .zip(&golden_up)
            .filter(|(p, u)| (**p > 0.5) == **u)
            .count();
        assert!(hits > 400, "the planted feature is learnt: {hits}/500");
        let bytes = gbm.to_onnx(&[("kind", "gbm".into())]).unwrap();
        let onnx = OnnxModel::from_bytes(&bytes, 2).unwrap();
        let served = onnx.predict(&golden).unwrap();
        assert_eq!(served.len(), golden.len());
        for (a, b) in trainer.iter().zip(&served) {
            assert!((a - b).abs() < 1e-5, "trainer {a} vs tract {b}");
        }
    }

    #[test]
    fn a_calibration_folds_into_the_exported_trees() {
        let (rows, up) = planted(2_000, 5);
        let (select, select_up) = planted(1_000, 6);
        let mut gbm = train(
            &rows,
            &up,
            None,
            &GbmParams {
                rounds: 60,
                ..GbmParams::default()
            },
        )
        .unwrap();
        let raw = gbm.predict(&select).unwrap();
        let platt = gbm.calibrate(&select, &select_up).unwrap();
        assert_ne!(platt, Platt::IDENTITY);
        let calibrated = gbm.predict(&select).unwrap();
        for (r, c) in raw.iter().zip(&calibrated) {
            assert!((platt.apply(f64::from(*r)) as f32 - c).abs() < 1e-6);
        }
        let onnx = OnnxModel::from_bytes(&gbm.to_onnx(&[]).unwrap(), 2).unwrap();
        for (a, b) in calibrated.iter().zip(onnx.predict(&select).unwrap()) {
            assert!((a - b).abs() < 1e-5, "calibrated {a} vs tract {b}");
        }
    }

    #[test]
    fn the_same_data_and_seed_give_the_same_bytes() {
        let (rows, up) = planted(2_000, 4);
        let fit = || {
            train(
                &rows,
                &up,
                None,
                &GbmParams {
                    rounds: 40,
                    ..GbmParams::default()
                },
            )
            .unwrap()
            .to_onnx(&[])
            .unwrap()
        };
        assert_eq!(fit(), fit());
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert!(train(&[], &[], None, &GbmParams::default()).is_err());
        assert!(
            train(
                &[vec![1.0], vec![1.0, 2.0]],
                &[true, false],
                None,
                &GbmParams::default()
            )
            .is_err()
        );
        assert!(train(&[vec![1.0]], &[true, false], None, &GbmParams::default()).is_err());
    }
}
