#include "services/common/memory_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace iam {

MemoryStore::MemoryStore(std::vector<std::string> columns) {
  for (auto& c : columns) columns_[c];
}

absl::Status MemoryStore::ApplyLocked(const WriteBatch& batch) {
  if (fail_next_ > 0) {
    --fail_next_;
    return absl::UnavailableError("injected storage failure");
  }
  for (const auto& op : batch.ops()) {
    if (!columns_.contains(op.column)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown storage column '", op.column, "'"));
    }
  }
  for (const auto& op : batch.ops()) {
    auto& col = columns_[op.column];
    if (op.value.has_value()) {
      col[op.key] = *op.value;
    } else {
      col.erase(op.key);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Revision> MemoryStore::CommitWith(const WriteBatch& batch,
                                                 const BatchFinisher& finish) {
  absl::MutexLock lock(&mu_);
  absl::Status s;
  if (finish) {
    WriteBatch whole = batch;
    WriteBatch more;
    finish(revision_ + 1, &more);
    whole.Append(std::move(more));
    s = ApplyLocked(whole);
  } else {
    s = ApplyLocked(batch);
  }
  if (!s.ok()) return s;
  return ++revision_;
}

absl::Status MemoryStore::WriteUnsynced(const WriteBatch& batch) {
  absl::MutexLock lock(&mu_);
  return ApplyLocked(batch);
}

absl::StatusOr<std::string> MemoryStore::Get(absl::string_view column,
                                             absl::string_view key) const {
  absl::ReaderMutexLock lock(&mu_);
  auto col = columns_.find(column);
  if (col == columns_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown storage column '", column, "'"));
  }
  auto it = col->second.find(key);
  if (it == col->second.end()) return absl::NotFoundError("no such key");
  return it->second;
}

absl::Status MemoryStore::Scan(
    absl::string_view column, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  return ScanFrom(column, prefix, prefix, fn);
}

absl::Status MemoryStore::ScanFrom(
    absl::string_view column, absl::string_view prefix, absl::string_view start,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) const {
  // Copy out under the lock so fn may call back into the store.
  std::vector<std::pair<std::string, std::string>> rows;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto col = columns_.find(column);
    if (col == columns_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown storage column '", column, "'"));
    }
    absl::string_view from = start < prefix ? prefix : start;
    for (auto it = col->second.lower_bound(from);
         it != col->second.end() && absl::StartsWith(it->first, prefix); ++it) {
      rows.emplace_back(it->first, it->second);
    }
  }
  for (const auto& [k, v] : rows) {
    if (!fn(k, v)) break;
  }
  return absl::OkStatus();
}

Revision MemoryStore::CurrentRevision() const {
  absl::ReaderMutexLock lock(&mu_);
  return revision_;
}

void MemoryStore::FailNextWrites(int n) {
  absl::MutexLock lock(&mu_);
  fail_next_ = n;
}

}  // namespace iam
