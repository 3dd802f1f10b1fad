// RocksDbStore: the production Store, on one embedded RocksDB.
//
// Each column is a RocksDB column family. A private "meta" family holds the
// revision counter (key "revision", 8-byte big-endian), written in the same
// synced rocksdb::WriteBatch as the data it stamps, so a batch and its
// revision reach the disk together or not at all.
//
// Concurrent Commit() calls are group-committed: callers queue up, the caller
// at the head of the queue (the leader) merges the queued batches into one
// synced write and hands every caller in the group its own consecutive
// revision. Many writers thus share one fsync, and no caller returns before
// its batch is on stable storage. If the write fails, every caller in the
// group gets the error and no revision is used up; RocksDB then refuses
// writes until the store is reopened (it fails closed). As after any failed
// fsync, whether that group reached the disk is only known after a restart:
// it is then there whole with its revisions, or not at all.
//
// Readers (Get, Scan, ScanFrom) go straight to RocksDB; Scan reads from one
// implicit snapshot, so it sees whole batches only.
//
// Thread-safe. RocksDB's LOCK file keeps a second store (in this process or
// another) off the same directory; Open() says so instead of blocking.
#ifndef IAM_SERVICES_COMMON_ROCKSDB_STORE_H_
#define IAM_SERVICES_COMMON_ROCKSDB_STORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "services/common/store.h"

namespace iam {

class RocksDbStore final : public Store {
 public:
  // The private column family that holds the revision counter. Not a valid
  // column name for callers.
  static constexpr absl::string_view kMetaColumnFamily = "meta";

  // Opens the store in `dir`, creating the directory and the database if
  // missing and a column family for every column that does not exist yet.
  // Column families already on disk but not in `columns` stay untouched and
  // unreachable through this store.
  //
  // Errors: INVALID_ARGUMENT for a bad column list (empty or duplicate names,
  // or the reserved "default" / "meta"); FAILED_PRECONDITION when another
  // store holds `dir`; DATA_LOSS for a corrupt database; UNAVAILABLE for I/O
  // errors.
  static absl::StatusOr<std::unique_ptr<RocksDbStore>> Open(
      const std::string& dir,
      std::vector<std::string> columns = DefaultColumns());

  // Like Open(), with every file access going through `env`, so that tests
  // can inject I/O faults. REQUIRES: `env` outlives the store.
  static absl::StatusOr<std::unique_ptr<RocksDbStore>> OpenWithEnv(
      const std::string& dir, std::vector<std::string> columns,
      rocksdb::Env* env);

  // Syncs the WAL (so WriteUnsynced data survives a clean shutdown) and
  // closes the database. REQUIRES: no call into the store is in progress.
  ~RocksDbStore() override;

  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  absl::StatusOr<Revision> CommitWith(const WriteBatch& batch,
                                      const BatchFinisher& finish) override;
  absl::Status WriteUnsynced(const WriteBatch& batch) override;
  absl::StatusOr<std::string> Get(absl::string_view column,
                                  absl::string_view key) const override;
  absl::Status Scan(
      absl::string_view column, absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      const override;
  absl::Status ScanFrom(
      absl::string_view column, absl::string_view prefix,
      absl::string_view start,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      const override;
  Revision CurrentRevision() const override;

  // How well group commit works: `commits` successful Commit() calls were
  // made durable by `synced_writes` synced RocksDB writes.
  struct CommitStats {
    int64_t commits = 0;
    int64_t synced_writes = 0;
  };
  CommitStats GetCommitStats() const;

 private:
  // One queued Commit() call.
  struct Writer;

  RocksDbStore(
      std::unique_ptr<rocksdb::DB> db,
      std::vector<rocksdb::ColumnFamilyHandle*> handles,
      absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> columns,
      rocksdb::ColumnFamilyHandle* meta, Revision revision);

  // The family of a caller-visible column, or INVALID_ARGUMENT.
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> FindColumn(
      absl::string_view column) const;

  // The family of each op of `batch`, in order, or INVALID_ARGUMENT naming
  // the first unknown column.
  absl::StatusOr<std::vector<rocksdb::ColumnFamilyHandle*>> ResolveColumns(
      const WriteBatch& batch) const;

  // Runs as the leader: writes the group at the head of writers_ (which
  // starts with the calling writer) and completes every writer in it.
  // Releases mu_ during the write.
  void WriteGroupLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Immutable after construction; read without a lock.
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // every family opened
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> columns_;
  rocksdb::ColumnFamilyHandle* meta_;

  // Set once a write to RocksDB failed. RocksDB then refuses further writes
  // (its background error), and syncing its broken WAL writer would trip an
  // assertion in Debian's build, so close must not try.
  std::atomic<bool> write_failed_{false};

  mutable absl::Mutex mu_;
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(mu_);
  // The last revision on stable storage.
  Revision revision_ ABSL_GUARDED_BY(mu_);
  CommitStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace iam

#endif  // IAM_SERVICES_COMMON_ROCKSDB_STORE_H_
