// Start-up step of iamd for the password service: stores the password policy
// of the policy files (PolicyDocument.password_policy; the defaults when no
// file sets it) when the store holds none yet, or at every start when asked
// (--apply_policy), like the rest of the policy. Not thread-safe: call once,
// before serving.
#ifndef IAM_SERVICES_PASSWORD_POLICY_BOOTSTRAP_H_
#define IAM_SERVICES_PASSWORD_POLICY_BOOTSTRAP_H_

#include <string>

#include "absl/status/status.h"
#include "services/password/password_manager.h"

namespace iam::password {

// Loads `policy_dir` (empty: skip) and applies its password policy to
// `manager` when the manager runs on defaults only, or always when
// `apply_always` unless that exact policy is already stored, committing
// through `commit` if set (an audited commit).
// Returns the first error with what to fix.
absl::Status ApplyPasswordPolicyAtStart(const std::string& policy_dir,
                                        bool apply_always,
                                        PasswordManager* manager,
                                        const CommitFn& commit = nullptr);

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_POLICY_BOOTSTRAP_H_
