//! The shipped models: every ONNX file in `models/artifacts` loads in tract, matches its card's
//! sha256, and reproduces the trainer's probability on its golden input to 1e-5.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use models::features::FEATURE_VERSION;
use models::onnx::OnnxModel;
use models::train::read_cards;
use sha2::{Digest, Sha256};
use shared::{Coin, Horizon};

#[test]
fn every_shipped_model_reproduces_its_golden_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    let cards = read_cards(&dir).unwrap();
    let expected: Vec<(Coin, Horizon)> = Coin::ALL
        .into_iter()
        .flat_map(|c| Horizon::ALL.into_iter().map(move |h| (c, h)))
        .collect();
    let found: Vec<(Coin, Horizon)> = cards.iter().map(|c| (c.coin, c.horizon)).collect();
    assert_eq!(found, expected, "one model per coin and horizon");
    for card in &cards {
        let bytes = std::fs::read(dir.join(&card.onnx_file)).unwrap();
        assert_eq!(
            format!("{:x}", Sha256::digest(&bytes)),
            card.onnx_sha256,
            "{}",
            card.id
        );
        assert_eq!(card.features.version, FEATURE_VERSION, "{}", card.id);
        assert_eq!(card.features.names.len(), card.golden.input.len(), "{}", card.id);
        let model = OnnxModel::from_bytes(&bytes, card.golden.input.len()).unwrap();
        let p = model.predict(std::slice::from_ref(&card.golden.input)).unwrap()[0];
        assert!(
            (p - card.golden.p_up).abs() < 1e-5,
            "{}: tract {p} vs trainer {}",
            card.id,
            card.golden.p_up
        );
        let m = &card.walk_forward.metrics;
        assert!(
            m.n > 0 && m.wilson_low <= m.accuracy && m.accuracy <= m.wilson_high,
            "{}",
            card.id
        );
    }
}
