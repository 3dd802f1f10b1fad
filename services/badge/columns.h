// The store column the badge service keeps its state in. Header-only.
#ifndef IAM_SERVICES_BADGE_COLUMNS_H_
#define IAM_SERVICES_BADGE_COLUMNS_H_

#include "absl/strings/string_view.h"

namespace iam::badge {

// Also listed in DefaultColumns() (services/common/store.cc).
inline constexpr absl::string_view kBadgeColumn = "badge";

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_COLUMNS_H_
