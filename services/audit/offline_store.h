// OfflineStore: read-only Store access to an iamd data directory, for
// offline tools (`iamctl audit verify --data-dir DIR`). It opens the RocksDB
// as a secondary instance, which needs no lock, so it works on a copy of the
// directory and also beside a running iamd (it reads what iamd had written,
// WAL included, when it opened). Writes fail with FAILED_PRECONDITION.
//
// Thread-safe.
#ifndef IAM_SERVICES_AUDIT_OFFLINE_STORE_H_
#define IAM_SERVICES_AUDIT_OFFLINE_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "services/common/store.h"

namespace iam::audit {

class OfflineStore final : public Store {
 public:
  // Opens `dir`; RocksDB keeps its secondary-instance files in
  // `scratch_dir` (created if missing; the caller removes it). NOT_FOUND if
  // `dir` holds no database.
  static absl::StatusOr<std::unique_ptr<OfflineStore>> Open(
      const std::string& dir, const std::string& scratch_dir);
  ~OfflineStore() override;

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
  Revision CurrentRevision() const override { return 0; }

 private:
  OfflineStore() = default;
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> Family(
      absl::string_view column) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  absl::flat_hash_map<std::string, rocksdb::ColumnFamilyHandle*> families_;
};

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_OFFLINE_STORE_H_
