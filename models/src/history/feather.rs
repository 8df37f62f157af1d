//! freqtrade's feather candle files: Apache Arrow IPC (Feather V2), lz4- or zstd-compressed, with
//! the columns `date` (a UTC timestamp) and `open`, `high`, `low`, `close`, `volume`. Read with the
//! Arrow project's own reader (`arrow-ipc`), then checked like every other format.

use std::io::Cursor;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};

use super::{Bar, Format, History, HistoryError, check_bar, finish};

/// The bytes every Arrow IPC file starts with.
pub const MAGIC: &[u8] = b"ARROW1";

/// Parses a feather (Arrow IPC file) candle file. Errors name the 1-based row.
pub fn parse_feather(bytes: &[u8]) -> Result<History, HistoryError> {
    let reader = arrow_ipc::reader::FileReader::try_new(Cursor::new(bytes), None)
        .map_err(|e| HistoryError::at(1, format!("not an Arrow IPC (feather) file: {e}")))?;
    let mut bars = Vec::new();
    for batch in reader {
        let batch =
            batch.map_err(|e| HistoryError::at(bars.len() + 1, format!("unreadable record batch: {e}")))?;
        read_batch(&batch, &mut bars)?;
    }
    finish(Format::FreqtradeFeather, None, bars)
}

fn read_batch(batch: &RecordBatch, bars: &mut Vec<Bar>) -> Result<(), HistoryError> {
    let first = bars.len() + 1;
    let column = |name: &str| {
        batch.column_by_name(name).ok_or_else(|| {
            HistoryError::at(
                first,
                format!("no `{name}` column (expected date, open, high, low, close, volume)"),
            )
        })
    };
    let date = seconds(column("date")?.as_ref(), first)?;
    let [open, high, low, close, volume] = ["open", "high", "low", "close", "volume"]
        .map(|name| column(name).and_then(|c| numbers(name, c.as_ref(), first)));
    let (open, high, low, close, volume) = (open?, high?, low?, close?, volume?);
    for i in 0..batch.num_rows() {
        let n = first + i;
        let value = |what: &str, v: Option<f64>| {
            v.filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| {
                HistoryError::at(
                    n,
                    format!("row {n}: {what} is missing or not a non-negative number"),
                )
            })
        };
        let bar = Bar {
            ts: date[i].ok_or_else(|| HistoryError::at(n, format!("row {n}: no date")))?,
            open: value("open", open[i])?,
            high: value("high", high[i])?,
            low: value("low", low[i])?,
            close: value("close", close[i])?,
            volume: value("volume", volume[i])?,
        };
        check_bar(&bar).map_err(|m| HistoryError::at(n, format!("row {n}: {m}")))?;
        bars.push(bar);
    }
    Ok(())
}

/// The `date` column as Unix seconds (floor), whatever its unit; an integer column is epoch
/// milliseconds, as in freqtrade's JSON.
fn seconds(column: &dyn Array, row: usize) -> Result<Vec<Option<i64>>, HistoryError> {
    let scaled = |values: Vec<Option<i64>>, per_second: i64| {
        values
            .into_iter()
            .map(|v| v.map(|v| v.div_euclid(per_second)))
            .collect()
    };
    Ok(match column.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, _) => scaled(
            column.as_primitive::<TimestampNanosecondType>().iter().collect(),
            1_000_000_000,
        ),
        DataType::Timestamp(TimeUnit::Microsecond, _) => scaled(
            column.as_primitive::<TimestampMicrosecondType>().iter().collect(),
            1_000_000,
        ),
        DataType::Timestamp(TimeUnit::Millisecond, _) => scaled(
            column.as_primitive::<TimestampMillisecondType>().iter().collect(),
            1_000,
        ),
        DataType::Timestamp(TimeUnit::Second, _) => {
            column.as_primitive::<TimestampSecondType>().iter().collect()
        }
        DataType::Int64 => scaled(column.as_primitive::<Int64Type>().iter().collect(), 1_000),
        other => {
            return Err(HistoryError::at(
                row,
                format!("the `date` column is {other}, not a timestamp"),
            ));
        }
    })
}

fn numbers(name: &str, column: &dyn Array, row: usize) -> Result<Vec<Option<f64>>, HistoryError> {
    Ok(match column.data_type() {
        DataType::Float64 => column.as_primitive::<Float64Type>().iter().collect(),
        DataType::Float32 => column
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.map(f64::from))
            .collect(),
        DataType::Int64 => column
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        other => {
            return Err(HistoryError::at(
                row,
                format!("the `{name}` column is {other}, not a number"),
            ));
        }
    })
}
