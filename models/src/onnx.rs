//! ONNX: writing a trained [`Net`] as an ONNX graph (scaling folded in: the input is the raw
//! feature vector, the output P(UP)), and running ONNX files with tract.
//!
//! Graph: `x [N, F]` → `Sub(mean)` → `Div(std)` → per layer `Gemm(W, b, transB = 1)` with `Relu`
//! between layers → `Sigmoid` → `p_up [N, 1]`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use prost::Message;
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
    attribute_proto::AttributeType,
    tensor_proto::DataType,
    tensor_shape_proto::{Dimension, dimension::Value as Dim},
    type_proto::{Tensor as TensorType, Value as TypeValue},
};
use tract_onnx::prelude::{Framework, InferenceModelExt, IntoRunnable, Tensor, TypedSimplePlan, tvec};

use crate::nn::Net;

/// The input and output names of every coincast model.
pub const INPUT: &str = "x";
pub const OUTPUT: &str = "p_up";

pub(crate) fn tensor(name: &str, dims: &[usize], data: Vec<f32>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        float_data: data,
        ..Default::default()
    }
}

pub(crate) fn value_info(name: &str, dims: [Dim; 2]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TensorType {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .into_iter()
                        .map(|d| Dimension {
                            value: Some(d),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub(crate) fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: vec![output.to_owned()],
        name: output.to_owned(),
        op_type: op.into(),
        attribute,
        ..Default::default()
    }
}

fn float_attr(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f,
        ..Default::default()
    }
}

pub(crate) fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i,
        ..Default::default()
    }
}

/// The ONNX bytes of `net`; `metadata` pairs are stored in the model (coin, horizon, versions).
pub fn to_onnx(net: &Net, metadata: &[(&str, String)]) -> Vec<u8> {
    let f = net.inputs();
    let mut initializer = vec![
        tensor("mean", &[f], net.mean.clone()),
        tensor("std", &[f], net.std.clone()),
    ];
    let mut nodes = vec![
        node("Sub", &[INPUT, "mean"], "centred", vec![]),
        node("Div", &["centred", "std"], "h0", vec![]),
    ];
    let mut current = "h0".to_owned();
    for (k, layer) in net.layers.iter().enumerate() {
        let (out, inp) = (layer.weights.len(), layer.weights.first().map_or(0, Vec::len));
        let (w, b) = (format!("W{k}"), format!("B{k}"));
        initializer.push(tensor(
            &w,
            &[out, inp],
            layer.weights.iter().flatten().copied().collect(),
        ));
        initializer.push(tensor(&b, &[out], layer.bias.clone()));
        let gemm = format!("gemm{k}");
        nodes.push(node(
            "Gemm",
            &[&current, &w, &b],
            &gemm,
            vec![
                float_attr("alpha", 1.0),
                float_attr("beta", 1.0),
                int_attr("transB", 1),
            ],
        ));
        current = if k + 1 < net.layers.len() {
            let relu = format!("h{}", k + 1);
            nodes.push(node("Relu", &[&gemm], &relu, vec![]));
            relu
        } else {
            gemm
        };
    }
    nodes.push(node("Sigmoid", &[&current], OUTPUT, vec![]));
    let doc = format!("coincast {}: P(UP) from the raw feature vector", net.kind.name());
    model(nodes, initializer, f, &doc, &[("", 17)], metadata).encode_to_vec()
}

/// A coincast model: `x [N, features]` in, `p_up [N, 1]` out, through `nodes`, importing the
/// operator sets `opsets` (domain, version); `metadata` pairs are stored in it.
pub(crate) fn model(
    nodes: Vec<NodeProto>,
    initializer: Vec<TensorProto>,
    features: usize,
    doc: &str,
    opsets: &[(&str, i64)],
    metadata: &[(&str, String)],
) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: opsets
            .iter()
            .map(|&(domain, version)| OperatorSetIdProto {
                domain: domain.to_owned(),
                version,
            })
            .collect(),
        producer_name: "coincast".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: doc.to_owned(),
        metadata_props: metadata
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: (*k).to_owned(),
                value: v.clone(),
            })
            .collect(),
        graph: Some(GraphProto {
            node: nodes,
            name: "coincast".into(),
            initializer,
            input: vec![value_info(
                INPUT,
                [
                    Dim::DimParam("N".into()),
                    Dim::DimValue(i64::try_from(features).unwrap_or(i64::MAX)),
                ],
            )],
            output: vec![value_info(OUTPUT, [Dim::DimParam("N".into()), Dim::DimValue(1)])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An ONNX model loaded with tract, ready to run.
#[derive(Clone)]
pub struct OnnxModel {
    plan: Arc<TypedSimplePlan>,
    inputs: usize,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel").field("inputs", &self.inputs).finish()
    }
}

impl OnnxModel {
    /// Loads and optimises an ONNX file that takes `inputs` features.
    pub fn load(path: &Path, inputs: usize) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_bytes(&bytes, inputs).with_context(|| format!("loading {}", path.display()))
    }

    /// Loads an ONNX model from memory.
    pub fn from_bytes(bytes: &[u8], inputs: usize) -> anyhow::Result<Self> {
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])?
            .into_optimized()?
            .into_runnable()?;
        let model = OnnxModel { plan, inputs };
        // Check the declared width by running one row.
        model
            .predict(&[vec![0.0; inputs]])
            .context("the model does not take this many features")?;
        Ok(model)
    }

    /// The number of features the model takes.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// P(UP) for each row. CPU work: call it off async threads.
    pub fn predict(&self, rows: &[Vec<f32>]) -> anyhow::Result<Vec<f32>> {
        anyhow::ensure!(
            rows.iter().all(|r| r.len() == self.inputs),
            "every row needs {} features",
            self.inputs
        );
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let input = Tensor::from_shape(&[rows.len(), self.inputs], &flat)?;
        let out = self.plan.run(tvec!(input.into()))?;
        let view = out[0].to_plain_array_view::<f32>()?;
        Ok(view.iter().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Dense, ModelKind};

    fn net() -> Net {
        Net {
            kind: ModelKind::Mlp { hidden: vec![2] },
            mean: vec![1.0, -2.0, 0.5],
            std: vec![2.0, 0.5, 1.0],
            layers: vec![
                Dense {
                    weights: vec![vec![0.3, -0.2, 0.8], vec![-0.5, 0.4, 0.1]],
                    bias: vec![0.05, -0.1],
                },
                Dense {
                    weights: vec![vec![1.2, -0.7]],
                    bias: vec![0.2],
                },
            ],
        }
    }

    #[test]
    fn tract_runs_the_exported_graph_like_the_trainer() {
        let net = net();
        let bytes = to_onnx(&net, &[("coin", "BTC".into())]);
        let model = OnnxModel::from_bytes(&bytes, 3).unwrap();
        let rows = vec![vec![1.0, -2.0, 0.5], vec![3.0, 0.0, -1.0], vec![-4.0, -2.5, 2.0]];
        let got = model.predict(&rows).unwrap();
        for (row, p) in rows.iter().zip(got) {
            let want = net.predict_one(row);
            assert!((p - want).abs() < 1e-6, "{p} vs {want}");
        }
    }

    #[test]
    fn a_wrong_width_is_refused() {
        let bytes = to_onnx(&net(), &[]);
        assert!(OnnxModel::from_bytes(&bytes, 4).is_err());
        let model = OnnxModel::from_bytes(&bytes, 3).unwrap();
        assert!(model.predict(&[vec![1.0, 2.0]]).is_err());
    }
}
