// Where the audit log keeps what is not a record. Records live alone in
// kAuditColumn (so RocksDB moves their files down without merging them);
// checkpoints, index postings and the meta/ markers live in
// kAuditIndexColumn. Data directories written before the split (2026-12)
// keep those among the records until the first StoreAuditLog::Open of a
// newer iamd moves them; offline readers find them by the same rule.
#ifndef IAM_SERVICES_AUDIT_INDEX_LAYOUT_H_
#define IAM_SERVICES_AUDIT_INDEX_LAYOUT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/store.h"

namespace iam::audit {

// Whether `store`'s checkpoints, postings and markers are still among the
// records: the index column is not marked complete and the record column
// holds such keys. A store without an index column counts as unmarked.
absl::StatusOr<bool> IndexAmongRecords(const Store& store);

// Moves them to the index column if they are among the records: copies
// them (idempotent, so again after a crash), marks the index column
// complete, deletes the originals, and marks the move done, in synced
// writes of at most 4,096 keys. At every point one complete set exists
// where IndexAmongRecords says. Writes nothing when there is nothing to
// move.
absl::Status MoveIndexOutOfRecords(Store* store);

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_INDEX_LAYOUT_H_
