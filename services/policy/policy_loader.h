// Policy loader and linter: reads the factory's policy-as-code files (protobuf
// text format PolicyDocuments, see proto/iam/v1/policy.proto), merges them in
// order and checks the result with iam::authz::ValidatePolicy. Every problem
// (unreadable file, syntax error, invalid or dangling name, duplicate, cycle)
// comes back as a LintIssue that points at the file, line and column of the
// offending text, so `iamctl policy lint` and the server can say exactly what
// to fix.
//
// Syntax errors do not stop the scan: each file is parsed in top-level pieces
// (`permissions { ... }`, `roles { ... }`), so one broken entry does not hide
// the errors of the entries after it. When any file is unreadable or has a
// syntax error the merged document is incomplete, and semantic validation is
// skipped: a missing declaration would otherwise be reported again as every
// reference to it.
//
// Stateless functions; thread-safe.
#ifndef IAM_SERVICES_POLICY_POLICY_LOADER_H_
#define IAM_SERVICES_POLICY_POLICY_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/iam/v1/policy.pb.h"

namespace iam::policy {

// One problem in the policy files.
struct LintIssue {
  // The path as given to LoadPolicyFiles; "(merged policy)" for the rare
  // issue of the merged document as a whole (more objects than allowed).
  std::string file;
  int line;          // 1-based; 0 when the issue concerns the whole file
  int column;        // 1-based (a tab advances to the next multiple of 8); 0 with line 0
  std::string message;
};

struct LoadedPolicy {
  // The files' documents concatenated in the order of the paths. Incomplete
  // when there are syntax errors.
  iam::v1::PolicyDocument merged;
  // Empty when the policy is valid. Sorted by file (in the order of the
  // paths), then line, then column.
  std::vector<LintIssue> issues;
};

// Parses each file as a text-format PolicyDocument, merges them in order,
// validates the merged document and maps every issue back to the
// file:line:column of the offending value: the name, path or list entry
// (also inside "[...]" lists); for an object without a name, where the
// object starts. Duplicates are reported at the later occurrence. Never
// fails as a whole: every problem, including an unreadable file (line 0) or
// one over 64 MiB, is an issue.
LoadedPolicy LoadPolicyFiles(const std::vector<std::string>& paths);

// The *.textproto files directly in `dir` (not in subdirectories), sorted.
// NOT_FOUND if `dir` does not exist or holds no such file;
// FAILED_PRECONDITION if it is not a directory or cannot be listed.
absl::StatusOr<std::vector<std::string>> PolicyFilesInDir(const std::string& dir);

// "file:line:column: message", the form editors and CI logs understand.
std::string FormatIssue(const LintIssue& issue);

// Loads the files; if there are issues, INVALID_ARGUMENT whose message lists
// every issue, one FormatIssue line each, after a one-line summary.
absl::StatusOr<iam::v1::PolicyDocument> LoadPolicyOrError(
    const std::vector<std::string>& paths);

}  // namespace iam::policy

#endif  // IAM_SERVICES_POLICY_POLICY_LOADER_H_
