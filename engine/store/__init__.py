"""The store: immutable snapshots swapped in atomically, and every table's schema and typed reader."""

from engine.store.snapshots import KEEP_SNAPSHOTS, Snapshot, SnapshotWriter, Store, StoreError

__all__ = ["KEEP_SNAPSHOTS", "Snapshot", "SnapshotWriter", "Store", "StoreError"]
