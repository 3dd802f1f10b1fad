#include "services/audit/offline_store.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "services/audit/index_layout.h"
#include "services/common/status_macros.h"

namespace iam::audit {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsNotFound() || s.IsPathNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  return absl::UnavailableError(message);
}

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OfflineStore>> OfflineStore::Open(
    const std::string& dir, const std::string& scratch_dir) {
  rocksdb::Options options;
  options.max_open_files = -1;  // required of secondary instances
  options.create_if_missing = false;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (!s.ok()) {
    return absl::NotFoundError(absl::StrCat(
        "no database in ", dir, " (", s.ToString(),
        "); pass the iamd --data_dir directory or a copy of it"));
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  rocksdb::Env::Default()->CreateDirIfMissing(scratch_dir).PermitUncheckedError();
  rocksdb::DB* raw = nullptr;
  std::unique_ptr<OfflineStore> store(new OfflineStore);
  s = rocksdb::DB::OpenAsSecondary(rocksdb::DBOptions(options), dir, scratch_dir,
                                   descriptors, &store->handles_, &raw);
  RETURN_IF_ERROR(FromRocks(s, absl::StrCat("opening ", dir, " read-only")));
  store->db_.reset(raw);
  RETURN_IF_ERROR(FromRocks(store->db_->TryCatchUpWithPrimary(),
                            absl::StrCat("reading the log of ", dir)));
  for (size_t i = 0; i < descriptors.size(); ++i) {
    store->families_[descriptors[i].name] = store->handles_[i];
  }
  // A directory that no iamd has opened since the audit columns were split
  // keeps checkpoints, postings and markers among the records: read them
  // there.
  ASSIGN_OR_RETURN(const bool among_records, IndexAmongRecords(*store));
  if (among_records) {
    store->families_[std::string(kAuditIndexColumn)] =
        store->families_.at(std::string(kAuditColumn));
  }
  return store;
}

OfflineStore::~OfflineStore() {
  if (!db_) return;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

absl::StatusOr<rocksdb::ColumnFamilyHandle*> OfflineStore::Family(
    absl::string_view column) const {
  auto it = families_.find(std::string(column));
  if (it == families_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the data directory has no column '", column, "'"));
  }
  return it->second;
}

absl::StatusOr<Revision> OfflineStore::CommitWith(const WriteBatch&,
                                                  const BatchFinisher&) {
  return absl::FailedPreconditionError("the offline store is read-only");
}

absl::Status OfflineStore::WriteUnsynced(const WriteBatch&) {
  return absl::FailedPreconditionError("the offline store is read-only");
}

absl::StatusOr<std::string> OfflineStore::Get(absl::string_view column,
                                              absl::string_view key) const {
  ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * family, Family(column));
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), family,
                               rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return absl::NotFoundError("no such key");
  RETURN_IF_ERROR(FromRocks(s, "reading"));
  return value;
}

absl::Status OfflineStore::Scan(
    absl::string_view column, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  return ScanFrom(column, prefix, prefix, fn);
}

absl::Status OfflineStore::ScanFrom(
    absl::string_view column, absl::string_view prefix, absl::string_view start,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  ASSIGN_OR_RETURN(rocksdb::ColumnFamilyHandle * family, Family(column));
  const std::string end = PrefixEnd(prefix);
  const rocksdb::Slice end_slice(end);
  rocksdb::ReadOptions options;
  if (!end.empty()) options.iterate_upper_bound = &end_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, family));
  const absl::string_view from = std::max(start, prefix);
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid();
       it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    if (!absl::StartsWith(key, prefix)) break;
    if (!fn(key, absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "scanning");
}

}  // namespace iam::audit
