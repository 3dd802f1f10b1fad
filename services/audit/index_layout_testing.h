// For tests of the audit index layout (index_layout.h): puts a store back in
// the layout of data directories written before the audit columns were
// split, as an older iamd left them.
#ifndef IAM_SERVICES_AUDIT_INDEX_LAYOUT_TESTING_H_
#define IAM_SERVICES_AUDIT_INDEX_LAYOUT_TESTING_H_

#include "absl/status/status.h"
#include "services/common/store.h"

namespace iam::audit {

// Moves every checkpoint, posting and marker from the index column among
// the records, and drops the layout marker, in one synced write.
absl::Status PutIndexAmongRecords(Store* store);

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_INDEX_LAYOUT_TESTING_H_
