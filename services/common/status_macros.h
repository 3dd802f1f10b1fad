// Early-return helpers for absl::Status / absl::StatusOr, which our Abseil
// (20220623) does not provide. Header-only; no state.
#ifndef IAM_SERVICES_COMMON_STATUS_MACROS_H_
#define IAM_SERVICES_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define IAM_STATUS_CONCAT_INNER_(a, b) a##b
#define IAM_STATUS_CONCAT_(a, b) IAM_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::absl::Status iam_status_ = (expr);         \
    if (!iam_status_.ok()) return iam_status_;   \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, StatusOrExpr());` binds the value or returns the
// error status.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                        \
  IAM_ASSIGN_OR_RETURN_IMPL_(IAM_STATUS_CONCAT_(iam_statusor_, __LINE__),   \
                             lhs, rexpr)

#define IAM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // IAM_SERVICES_COMMON_STATUS_MACROS_H_
