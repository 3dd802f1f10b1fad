#include "services/audit/index_layout_testing.h"

#include "services/audit/record_format.h"
#include "services/common/status_macros.h"

namespace iam::audit {

absl::Status PutIndexAmongRecords(Store* store) {
  WriteBatch batch;
  for (const absl::string_view prefix : kIndexColumnPrefixes) {
    RETURN_IF_ERROR(store->Scan(
        kAuditIndexColumn, prefix,
        [&](absl::string_view key, absl::string_view value) {
          if (key != kLayoutKey) batch.Put(kAuditColumn, key, value);
          batch.Delete(kAuditIndexColumn, key);
          return true;
        }));
  }
  return store->Commit(batch).status();
}

}  // namespace iam::audit
