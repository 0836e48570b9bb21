pub struct Snapshot;
