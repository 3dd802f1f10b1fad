// Names of the authz vocabulary: permission names, role names and scope
// paths. Validation says what is wrong with a name and what a valid one looks
// like, in an INVALID_ARGUMENT status meant for the person who wrote it.
//
// Scopes form a tree: "/" is the root; "site/<id>" hangs below the root, and
// every further "<kind>/<id>" pair hangs below the path it extends:
//   "/" <- "site/sz" <- "site/sz/line/3" <- "site/sz/line/3/station/7".
//
// Pure functions; thread-safe.
#ifndef IAM_SERVICES_AUTHZ_NAMES_H_
#define IAM_SERVICES_AUTHZ_NAMES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace iam::authz {

// The root of the scope tree. It always exists and is never declared.
inline constexpr absl::string_view kRootScope = "/";

// Length bounds shared by the engine and the validators.
inline constexpr size_t kMaxPermissionNameLength = 200;
inline constexpr size_t kMaxNamePartLength = 64;
inline constexpr size_t kMaxRoleNameLength = 64;
inline constexpr int kMaxScopeSegments = 8;

// "<system>.<resource>:<action>", e.g. "mes.work_order:release": each part
// 1-64 characters of [a-z0-9_], at most 200 characters in all.
absl::Status ValidatePermissionName(absl::string_view name);

// 1-64 characters of [a-z0-9_.-] starting with a letter, e.g.
// "burning_technician".
absl::Status ValidateRoleName(absl::string_view name);

// "/" (the root), or "site/<id>" followed by zero or more "/<kind>/<id>"
// pairs; every segment 1-64 characters of [a-z0-9_-], at most 8 segments.
absl::Status ValidateScopePath(absl::string_view path);

// The parent of a scope: "site/sz/line/3" -> "site/sz" -> "/"; the root has
// no parent and yields "". The result views `path` or kRootScope.
// REQUIRES: ValidateScopePath(path).ok().
absl::string_view ParentScope(absl::string_view path);

// Whether a binding at `ancestor` covers `path`: true when `ancestor` is
// `path` itself or any scope above it (the root covers everything).
// REQUIRES: both are valid scope paths.
bool ScopeCovers(absl::string_view ancestor, absl::string_view path);

// `s` quoted for an error message or a decision reason: non-printable bytes
// escaped, cut to 100 bytes (with "...") so hostile input stays bounded.
std::string QuoteForMessage(absl::string_view s);

}  // namespace iam::authz

#endif  // IAM_SERVICES_AUTHZ_NAMES_H_
