#include "services/audit/index_layout.h"

#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "services/audit/record_format.h"
#include "services/common/status_macros.h"

namespace iam::audit {
namespace {

// Keys per synced write while a move copies or deletes them.
constexpr int kKeysPerMove = 4096;

// Calls fn(batch, key, value) for each key under `prefix` in kAuditColumn,
// and commits the batch every kKeysPerMove keys and at the end. Returns how
// many keys it saw.
absl::StatusOr<int64_t> ForEachInChunks(
    Store* store, absl::string_view prefix,
    const std::function<void(WriteBatch*, absl::string_view,
                             absl::string_view)>& fn) {
  std::string from(prefix);
  int64_t total = 0;
  while (true) {
    WriteBatch batch;
    int keys = 0;
    std::string last;
    RETURN_IF_ERROR(store->ScanFrom(
        kAuditColumn, prefix, from,
        [&](absl::string_view key, absl::string_view value) {
          fn(&batch, key, value);
          last = std::string(key);
          return ++keys < kKeysPerMove;
        }));
    if (!batch.empty()) RETURN_IF_ERROR(store->Commit(batch).status());
    total += keys;
    if (keys < kKeysPerMove) return total;
    from = last;
    from.push_back('\0');  // the next key after `last`
  }
}

// The layout marker, or "" when there is none (or no index column).
absl::StatusOr<std::string> LayoutMarker(const Store& store) {
  absl::StatusOr<std::string> layout = store.Get(kAuditIndexColumn, kLayoutKey);
  if (absl::IsNotFound(layout.status()) ||
      absl::IsInvalidArgument(layout.status())) {
    return std::string();
  }
  return layout;
}

}  // namespace

absl::StatusOr<bool> IndexAmongRecords(const Store& store) {
  ASSIGN_OR_RETURN(const std::string layout, LayoutMarker(store));
  if (!layout.empty()) return false;
  bool found = false;
  for (const absl::string_view prefix : kIndexColumnPrefixes) {
    absl::Status scanned = store.Scan(kAuditColumn, prefix,
                                      [&](absl::string_view, absl::string_view) {
                                        found = true;
                                        return false;
                                      });
    if (absl::IsInvalidArgument(scanned)) return false;  // no record column
    RETURN_IF_ERROR(scanned);
    if (found) return true;
  }
  return false;
}

absl::Status MoveIndexOutOfRecords(Store* store) {
  ASSIGN_OR_RETURN(const std::string layout, LayoutMarker(*store));
  if (layout == kLayoutSplit) return absl::OkStatus();
  if (layout.empty()) {
    int64_t copied = 0;
    for (const absl::string_view prefix : kIndexColumnPrefixes) {
      ASSIGN_OR_RETURN(
          const int64_t keys,
          ForEachInChunks(store, prefix,
                          [](WriteBatch* batch, absl::string_view key,
                             absl::string_view value) {
                            batch->Put(kAuditIndexColumn, key, value);
                          }));
      copied += keys;
    }
    if (copied == 0) return absl::OkStatus();  // a log begun since the split
    WriteBatch marked;
    marked.Put(kAuditIndexColumn, kLayoutKey, kLayoutCopied);
    RETURN_IF_ERROR(store->Commit(marked).status());
  }
  for (const absl::string_view prefix : kIndexColumnPrefixes) {
    RETURN_IF_ERROR(ForEachInChunks(store, prefix,
                                    [](WriteBatch* batch, absl::string_view key,
                                       absl::string_view) {
                                      batch->Delete(kAuditColumn, key);
                                    })
                        .status());
  }
  WriteBatch done;
  done.Put(kAuditIndexColumn, kLayoutKey, kLayoutSplit);
  return store->Commit(done).status();
}

}  // namespace iam::audit
