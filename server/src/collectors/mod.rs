//! One client per upstream source: fetch and parse into domain types. No scheduling here (jobs
//! call these) and no storage decisions beyond returning what the source said.

pub mod bitstamp;
