#include "services/password/password_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace iam::password {
namespace {

constexpr int kMaxBlockedPasswords = 10000;
constexpr size_t kMaxBlockedPasswordBytes = 256;

void Range(std::vector<PasswordPolicyIssue>* issues, const char* field,
           uint64_t value, uint64_t lo, uint64_t hi, const char* why = "") {
  if (value < lo || value > hi) {
    issues->push_back({field, -1,
                       absl::StrCat(field, " is ", value, "; it must be ", lo,
                                    "-", hi, why)});
  }
}

}  // namespace

iam::v1::PasswordPolicy DefaultPasswordPolicy() {
  iam::v1::PasswordPolicy p;
  p.set_min_length(15);
  p.set_min_length_with_second_factor(8);
  p.set_second_factor_required(false);
  p.set_max_length(64);
  p.set_check_cracklib(true);
  p.set_check_shipped_blocklist(true);
  p.set_reject_name_and_id(true);
  p.set_history_size(5);
  p.set_min_strength_bits(0);
  p.set_require_lowercase(false);
  p.set_require_uppercase(false);
  p.set_require_digit(false);
  p.set_require_symbol(false);
  p.set_max_age_days(0);
  p.set_lockout_threshold(10);
  p.set_lockout_seconds(1800);
  p.set_max_lockout_seconds(86400);
  p.set_source_failures_per_minute(10);
  p.set_source_failure_burst(30);
  p.mutable_argon2()->set_memory_kib(19456);
  p.mutable_argon2()->set_iterations(2);
  p.mutable_argon2()->set_parallelism(1);
  return p;
}

iam::v1::PasswordPolicy EffectivePolicy(const iam::v1::PasswordPolicy& configured) {
  iam::v1::PasswordPolicy p = DefaultPasswordPolicy();
  p.MergeFrom(configured);  // proto3 optional: only fields that are set
  return p;
}

std::vector<PasswordPolicyIssue> ValidatePasswordPolicy(
    const iam::v1::PasswordPolicy& configured) {
  std::vector<PasswordPolicyIssue> issues;
  const iam::v1::PasswordPolicy p = EffectivePolicy(configured);
  Range(&issues, "min_length", p.min_length(), 8, 64,
        " (NIST SP 800-63B asks for at least 15, or 8 with a second factor)");
  Range(&issues, "min_length_with_second_factor",
        p.min_length_with_second_factor(), 8, 64);
  Range(&issues, "max_length", p.max_length(), 64, 256,
        " (NIST SP 800-63B asks that at least 64 be allowed)");
  Range(&issues, "history_size", p.history_size(), 0, 24);
  Range(&issues, "min_strength_bits", p.min_strength_bits(), 0, 128);
  Range(&issues, "max_age_days", p.max_age_days(), 0, 3650);
  Range(&issues, "lockout_threshold", p.lockout_threshold(), 1, 100,
        " (NIST SP 800-63B allows at most 100 consecutive failures)");
  Range(&issues, "lockout_seconds", p.lockout_seconds(), 60, 86400);
  Range(&issues, "max_lockout_seconds", p.max_lockout_seconds(),
        p.lockout_seconds(), 2592000, " (and at least lockout_seconds)");
  Range(&issues, "source_failures_per_minute", p.source_failures_per_minute(),
        1, 100000);
  Range(&issues, "source_failure_burst", p.source_failure_burst(), 1, 100000);
  Range(&issues, "argon2.memory_kib", p.argon2().memory_kib(), 7168, 4194304,
        " (OWASP's lowest recommendation is 7168 KiB with 5 iterations)");
  Range(&issues, "argon2.iterations", p.argon2().iterations(), 1, 16);
  Range(&issues, "argon2.parallelism", p.argon2().parallelism(), 1, 16);
  if (p.min_length() > p.max_length() ||
      p.min_length_with_second_factor() > p.max_length()) {
    issues.push_back({"max_length", -1,
                      absl::StrCat("max_length (", p.max_length(),
                                   ") is below a minimum length (",
                                   p.min_length(), " / ",
                                   p.min_length_with_second_factor(), ")")});
  }
  if (p.argon2().memory_kib() < 8 * p.argon2().parallelism()) {
    issues.push_back({"argon2.memory_kib", -1,
                      "argon2.memory_kib must be at least 8 KiB per lane of "
                      "argon2.parallelism"});
  }
  if (configured.blocked_passwords_size() > kMaxBlockedPasswords) {
    issues.push_back({"blocked_passwords", -1,
                      absl::StrCat("blocked_passwords has ",
                                   configured.blocked_passwords_size(),
                                   " entries; at most ", kMaxBlockedPasswords)});
  } else {
    for (int i = 0; i < configured.blocked_passwords_size(); ++i) {
      const std::string& entry = configured.blocked_passwords(i);
      if (entry.empty() || entry.size() > kMaxBlockedPasswordBytes) {
        issues.push_back({"blocked_passwords", i,
                          absl::StrCat("a blocked password must be 1-",
                                       kMaxBlockedPasswordBytes, " bytes")});
      }
    }
  }
  return issues;
}

absl::Status CheckPasswordPolicy(const iam::v1::PasswordPolicy& configured) {
  std::vector<PasswordPolicyIssue> issues = ValidatePasswordPolicy(configured);
  if (issues.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const auto& issue : issues) {
    lines.push_back(issue.field_index < 0
                        ? issue.message
                        : absl::StrCat(issue.field, "[", issue.field_index,
                                       "]: ", issue.message));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the password policy has ", issues.size(), " problem(s): ",
      absl::StrJoin(lines, "; ")));
}

}  // namespace iam::password
