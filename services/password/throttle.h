// Throttling of failed logins:
//  - lockout of a person after N consecutive failures, for a time that
//    doubles with each further lockout (LockoutRule, FailureState);
//  - a token bucket of failures per source address (SourceLimiter);
//  - failure state for ids that have no stored password (unknown people),
//    kept in memory so that they lock out exactly like real accounts and an
//    attacker cannot tell the two apart by counting attempts
//    (PhantomFailures).
// All time comes from the caller (an injected Clock).
//
// LockoutRule and the free functions are pure. SourceLimiter and
// PhantomFailures are thread-safe and bounded in memory.
#ifndef IAM_SERVICES_PASSWORD_THROTTLE_H_
#define IAM_SERVICES_PASSWORD_THROTTLE_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/iam/v1/password_policy.pb.h"

namespace iam::password {

struct FailureState {
  uint32_t failures = 0;  // consecutive, since the last success or lockout
  uint32_t lockouts = 0;  // lockouts since the last success
  absl::Time locked_until = absl::InfinitePast();
};

struct LockoutRule {
  uint32_t threshold = 10;
  absl::Duration first = absl::Minutes(30);
  absl::Duration longest = absl::Hours(24);

  // From an effective policy.
  static LockoutRule From(const iam::v1::PasswordPolicy& policy);
  // The length of lockout number `n` (1-based): first * 2^(n-1), capped.
  absl::Duration Length(uint32_t n) const;
};

inline bool IsLocked(const FailureState& s, absl::Time now) {
  return now < s.locked_until;
}

// Counts a failure at `now`; at the threshold starts a lockout (and resets
// the count). Returns true when this failure started a lockout.
bool RecordFailure(const LockoutRule& rule, absl::Time now, FailureState* s);

class SourceLimiter {
 public:
  struct Rate {
    double per_minute = 10;
    double burst = 30;
  };
  explicit SourceLimiter(size_t max_sources = 100000)
      : max_sources_(max_sources) {}

  // OK to try a password from `source` now; otherwise when it may try again.
  bool Allowed(absl::string_view source, const Rate& rate, absl::Time now,
               absl::Time* retry_at) const;
  // Spends one token of `source`'s bucket.
  void RecordFailure(absl::string_view source, const Rate& rate, absl::Time now);

 private:
  struct Bucket {
    double tokens;
    absl::Time at;
  };
  static double TokensAt(const Bucket& b, const Rate& rate, absl::Time now);

  const size_t max_sources_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

class PhantomFailures {
 public:
  explicit PhantomFailures(size_t max_ids = 100000) : max_ids_(max_ids) {}
  FailureState Get(absl::string_view id) const;
  // Stores `state` (an all-clear state erases the entry).
  void Put(absl::string_view id, const FailureState& state, absl::Time now);
  // True if there was an entry.
  bool Erase(absl::string_view id);

 private:
  const size_t max_ids_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, FailureState> states_ ABSL_GUARDED_BY(mu_);
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_THROTTLE_H_
