// The password policy's defaults, the effective policy (defaults overlaid by
// what the factory configured), and its validation. The checks a candidate
// password must pass live in policy_checker.h; this file only says what the
// numbers are and whether they make sense.
//
// Pure functions; thread-safe.
#ifndef IAM_SERVICES_PASSWORD_PASSWORD_POLICY_H_
#define IAM_SERVICES_PASSWORD_PASSWORD_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/iam/v1/password_policy.pb.h"

namespace iam::password {

// Every field set to its documented default (NIST SP 800-63B rev 4, OWASP
// Argon2id parameters, PCI DSS lockout threshold).
iam::v1::PasswordPolicy DefaultPasswordPolicy();

// DefaultPasswordPolicy() with every field `configured` sets overriding it.
iam::v1::PasswordPolicy EffectivePolicy(const iam::v1::PasswordPolicy& configured);

// A problem in a configured policy.
struct PasswordPolicyIssue {
  // Field path inside PasswordPolicy, e.g. "min_length", "argon2.memory_kib",
  // "blocked_passwords" (field_index says which entry).
  std::string field;
  int field_index = -1;
  std::string message;  // what is wrong and what to write instead
};

// Every problem in `configured` (empty: valid). Checks each value's range
// and the relations between fields of the effective policy (max_length >=
// min_length, max_lockout_seconds >= lockout_seconds, ...).
std::vector<PasswordPolicyIssue> ValidatePasswordPolicy(
    const iam::v1::PasswordPolicy& configured);

// INVALID_ARGUMENT listing every issue, or OK.
absl::Status CheckPasswordPolicy(const iam::v1::PasswordPolicy& configured);

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_PASSWORD_POLICY_H_
