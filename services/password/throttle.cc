#include "services/password/throttle.h"

#include <algorithm>
#include <cmath>

namespace iam::password {

LockoutRule LockoutRule::From(const iam::v1::PasswordPolicy& policy) {
  LockoutRule rule;
  rule.threshold = policy.lockout_threshold();
  rule.first = absl::Seconds(policy.lockout_seconds());
  rule.longest = absl::Seconds(policy.max_lockout_seconds());
  return rule;
}

absl::Duration LockoutRule::Length(uint32_t n) const {
  absl::Duration d = first;
  for (uint32_t i = 1; i < n && d < longest; ++i) d *= 2;
  return std::min(d, longest);
}

bool RecordFailure(const LockoutRule& rule, absl::Time now, FailureState* s) {
  ++s->failures;
  if (s->failures < rule.threshold) return false;
  s->failures = 0;
  ++s->lockouts;
  s->locked_until = now + rule.Length(s->lockouts);
  return true;
}

double SourceLimiter::TokensAt(const Bucket& b, const Rate& rate,
                               absl::Time now) {
  const double elapsed_minutes =
      std::max(0.0, absl::ToDoubleSeconds(now - b.at) / 60.0);
  return std::min(rate.burst, b.tokens + elapsed_minutes * rate.per_minute);
}

bool SourceLimiter::Allowed(absl::string_view source, const Rate& rate,
                            absl::Time now, absl::Time* retry_at) const {
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(source);
  if (it == buckets_.end()) return true;
  const double tokens = TokensAt(it->second, rate, now);
  if (tokens >= 1.0) return true;
  *retry_at = now + absl::Seconds(std::ceil((1.0 - tokens) / rate.per_minute * 60));
  return false;
}

void SourceLimiter::RecordFailure(absl::string_view source, const Rate& rate,
                                  absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sources_) {
      // Forget the sources whose buckets have refilled: they are where a new
      // bucket would start anyway.
      absl::erase_if(buckets_, [&](const auto& entry) {
        return TokensAt(entry.second, rate, now) >= rate.burst;
      });
      if (buckets_.size() >= max_sources_) buckets_.clear();
    }
    it = buckets_.emplace(std::string(source), Bucket{rate.burst, now}).first;
  }
  it->second.tokens = TokensAt(it->second, rate, now) - 1.0;
  it->second.at = now;
}

FailureState PhantomFailures::Get(absl::string_view id) const {
  absl::MutexLock lock(&mu_);
  auto it = states_.find(id);
  return it == states_.end() ? FailureState{} : it->second;
}

void PhantomFailures::Put(absl::string_view id, const FailureState& state,
                          absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (state.failures == 0 && state.lockouts == 0) {
    states_.erase(id);
    return;
  }
  if (states_.size() >= max_ids_ && !states_.contains(id)) {
    // Forget ids that are not locked out, then, if needed, everything: the
    // memory bound matters more than the count of a spraying attacker,
    // whom the per-source limit already slows.
    absl::erase_if(states_, [&](const auto& e) { return !IsLocked(e.second, now); });
    if (states_.size() >= max_ids_) states_.clear();
  }
  states_[std::string(id)] = state;
}

bool PhantomFailures::Erase(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  return states_.erase(id) > 0;
}

}  // namespace iam::password
