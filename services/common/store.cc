#include "services/common/store.h"

namespace iam {

std::vector<std::string> DefaultColumns() {
  return {std::string(kIdentityColumn), std::string(kAuthzColumn),
          std::string(kAuditColumn), std::string(kAuditIndexColumn),
          std::string(kAuditKeysColumn),
          "password", "lifecycle", "badge"};
}

}  // namespace iam
