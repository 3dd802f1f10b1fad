// Store: the durable key-value storage every service writes through.
//
// Keys live in named columns (one per service: "identity", "authz", "audit",
// ...). Commit() applies a batch atomically and durably (synced before it
// returns) and stamps it with the next revision: a process-wide counter that
// never goes backwards, also across restarts. Readers see whole batches only.
//
// Thread-safe: any number of threads may call any method concurrently.
#ifndef IAM_SERVICES_COMMON_STORE_H_
#define IAM_SERVICES_COMMON_STORE_H_

#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace iam {

using Revision = int64_t;

// Columns every store has.
inline constexpr absl::string_view kIdentityColumn = "identity";
inline constexpr absl::string_view kAuthzColumn = "authz";
// Audit records alone: written in key order and never rewritten, so RocksDB
// moves their flushed files down without merging them.
inline constexpr absl::string_view kAuditColumn = "audit";
// The audit log's checkpoints, index postings and markers, whose keys would
// otherwise interleave with the records' (services/audit/record_format.h).
inline constexpr absl::string_view kAuditIndexColumn = "audit_index";
// Per-person keys that seal personal text in audit records (services/audit).
inline constexpr absl::string_view kAuditKeysColumn = "audit_keys";

// The columns a store opens by default.
std::vector<std::string> DefaultColumns();

// A set of puts and deletes applied together.
class WriteBatch {
 public:
  struct Op {
    std::string column;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  void Put(absl::string_view column, absl::string_view key,
           absl::string_view value) {
    ops_.push_back(Op{std::string(column), std::string(key), std::string(value)});
  }
  void Delete(absl::string_view column, absl::string_view key) {
    ops_.push_back(Op{std::string(column), std::string(key), std::nullopt});
  }
  // Moves `other`'s ops to the end of this batch.
  void Append(WriteBatch other) {
    ops_.insert(ops_.end(), std::make_move_iterator(other.ops_.begin()),
                std::make_move_iterator(other.ops_.end()));
  }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
};

// Completes a batch once the revision it will commit at is known: adds what
// must name that revision (the audit record of the change the batch makes).
// Runs on whichever thread leads the store's group commit, while the
// committing caller waits in CommitWith; it must not call into the store.
using BatchFinisher = std::function<void(Revision revision, WriteBatch* more)>;


class Store {
 public:
  virtual ~Store() = default;

  // Applies `batch` atomically, syncs it to stable storage, and returns the
  // revision it committed at (strictly greater than every earlier one).
  // An unknown column is INVALID_ARGUMENT and nothing is applied. An I/O
  // failure (UNAVAILABLE, INTERNAL) means the outcome is unknown: the batch
  // is not visible now, but if its log record reached the disk before the
  // sync failed it may reappear, whole and at its revision, after a restart.
  // Callers must not acknowledge it, and should make retries idempotent.
  absl::StatusOr<Revision> Commit(const WriteBatch& batch) {
    return CommitWith(batch, nullptr);
  }

  // Like Commit; `finish` (if set) is called once with the revision before
  // anything is written, and what it adds is applied in the same atomic,
  // synced write. If the write then fails, none of it is applied.
  virtual absl::StatusOr<Revision> CommitWith(const WriteBatch& batch,
                                              const BatchFinisher& finish) = 0;

  // Applies `batch` atomically without waiting for sync and without taking a
  // revision. A crash may lose it. For buffered records only.
  virtual absl::Status WriteUnsynced(const WriteBatch& batch) = 0;

  // The value at `key`, or NOT_FOUND.
  virtual absl::StatusOr<std::string> Get(absl::string_view column,
                                          absl::string_view key) const = 0;

  // Calls fn(key, value) for each key in `column` that starts with `prefix`,
  // in key order, from a consistent view, until fn returns false.
  virtual absl::Status Scan(
      absl::string_view column, absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          fn) const = 0;

  // Like Scan, but starts at the first key >= `start` (keys still must begin
  // with `prefix`).
  virtual absl::Status ScanFrom(
      absl::string_view column, absl::string_view prefix, absl::string_view start,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          fn) const = 0;

  // The revision of the last committed batch (0 for a new store).
  virtual Revision CurrentRevision() const = 0;
};

// Commits a domain change's batch and returns its revision: Store::Commit,
// or a commit that also writes the change's audit record (ChangeRecorder).
using CommitFn = std::function<absl::StatusOr<Revision>(const WriteBatch&)>;

// A CommitFn that is also told what the batch writes, as only the domain
// can name it inside the write (the ids it assigns under its lock, a count
// of the changes it found): for changes whose audit record names them.
using NamedCommitFn = std::function<absl::StatusOr<Revision>(
    const WriteBatch&, absl::string_view name)>;

// Commits `batch` through `commit` when it is set, else through `store`:
// for domain writes that take an optional CommitFn.
inline absl::StatusOr<Revision> CommitThrough(const CommitFn& commit,
                                              Store& store,
                                              const WriteBatch& batch) {
  return commit ? commit(batch) : store.Commit(batch);
}

// Binds `name` to a set `commit`, for domain code that commits through a
// plain CommitFn; nullptr stays nullptr. `commit` must outlive the result.
inline CommitFn NameCommit(const NamedCommitFn& commit, std::string name) {
  if (!commit) return nullptr;
  return [&commit, name = std::move(name)](const WriteBatch& batch) {
    return commit(batch, name);
  };
}

}  // namespace iam

#endif  // IAM_SERVICES_COMMON_STORE_H_
