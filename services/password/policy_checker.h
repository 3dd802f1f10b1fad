// PasswordPolicyChecker: whether a candidate password is acceptable under an
// effective password policy: length (code points after NFKC), composition
// rules when enabled, the blocklists, the estimated strength, and the
// person's name and id. (History needs the stored hashes; the
// PasswordManager checks it.) Problems are sentences that say what to fix
// and never quote the password.
//
// Immutable after construction; thread-safe.
#ifndef IAM_SERVICES_PASSWORD_POLICY_CHECKER_H_
#define IAM_SERVICES_PASSWORD_POLICY_CHECKER_H_

#include <memory>
#include <string>
#include <vector>

#include "proto/iam/v1/password_policy.pb.h"
#include "services/password/blocklist.h"
#include "services/password/password_text.h"

namespace iam::password {

// Who the password is for; both may be empty.
struct PersonNames {
  std::string id;
  std::string display_name;
};

class PasswordPolicyChecker {
 public:
  // `effective` has every field set (EffectivePolicy). `cracklib` may be null
  // (then check_cracklib is not applied: the caller decided it may be).
  // REQUIRES: cracklib outlives this object.
  PasswordPolicyChecker(iam::v1::PasswordPolicy effective,
                        const Blocklist* cracklib);

  // Every rule `password` breaks; empty when acceptable.
  std::vector<std::string> Problems(const NormalizedPassword& password,
                                    const PersonNames& person) const;

  // Estimated guessing entropy (zxcvbn), with the person's names as a
  // dictionary.
  static double StrengthBits(const NormalizedPassword& password,
                             const PersonNames& person);
  // "very weak", "weak", "fair" or "strong".
  static const char* StrengthLabel(double bits);

  const iam::v1::PasswordPolicy& policy() const { return policy_; }
  // The minimum length in force (depends on second_factor_required).
  int min_length() const;

 private:
  const iam::v1::PasswordPolicy policy_;
  WordBlocklist words_;  // shipped list (if enabled) + blocked_passwords
  const Blocklist* const cracklib_;
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_POLICY_CHECKER_H_
