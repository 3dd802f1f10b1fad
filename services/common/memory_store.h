// MemoryStore: an in-memory Store for unit tests. Same contract as the
// RocksDB store except durability (nothing survives the object). It can be
// told to fail the next commits, to test that callers change nothing when
// storage fails. Thread-safe.
#ifndef IAM_SERVICES_COMMON_MEMORY_STORE_H_
#define IAM_SERVICES_COMMON_MEMORY_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/common/store.h"

namespace iam {

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(std::vector<std::string> columns = DefaultColumns());

  absl::StatusOr<Revision> CommitWith(const WriteBatch& batch,
                                      const BatchFinisher& finish) override;
  absl::Status WriteUnsynced(const WriteBatch& batch) override;
  absl::StatusOr<std::string> Get(absl::string_view column,
                                  absl::string_view key) const override;
  absl::Status Scan(absl::string_view column, absl::string_view prefix,
                    const std::function<bool(absl::string_view, absl::string_view)>&
                        fn) const override;
  absl::Status ScanFrom(
      absl::string_view column, absl::string_view prefix, absl::string_view start,
      const std::function<bool(absl::string_view, absl::string_view)>& fn)
      const override;
  Revision CurrentRevision() const override;

  // The next `n` Commit/WriteUnsynced calls fail with UNAVAILABLE.
  void FailNextWrites(int n);

 private:
  absl::Status ApplyLocked(const WriteBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::map<std::string, std::string, std::less<>>>
      columns_ ABSL_GUARDED_BY(mu_);
  Revision revision_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace iam

#endif  // IAM_SERVICES_COMMON_MEMORY_STORE_H_
