#include "services/password/throttle.h"

#include "gtest/gtest.h"

namespace iam::password {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

TEST(LockoutRuleTest, LocksAtTheThresholdAndDoublesUpToTheCap) {
  LockoutRule rule{3, absl::Minutes(30), absl::Hours(2)};
  FailureState s;
  EXPECT_FALSE(RecordFailure(rule, kT0, &s));
  EXPECT_FALSE(RecordFailure(rule, kT0, &s));
  EXPECT_TRUE(RecordFailure(rule, kT0, &s));
  EXPECT_EQ(s.locked_until, kT0 + absl::Minutes(30));
  EXPECT_TRUE(IsLocked(s, kT0 + absl::Minutes(29)));
  EXPECT_FALSE(IsLocked(s, kT0 + absl::Minutes(30)));
  EXPECT_EQ(s.failures, 0u);
  absl::Time later = kT0 + absl::Hours(1);
  for (int i = 0; i < 3; ++i) RecordFailure(rule, later, &s);
  EXPECT_EQ(s.locked_until, later + absl::Hours(1));
  EXPECT_EQ(rule.Length(3), absl::Hours(2));
  EXPECT_EQ(rule.Length(30), absl::Hours(2));
}

TEST(LockoutRuleTest, ComesFromThePolicy) {
  iam::v1::PasswordPolicy p;
  p.set_lockout_threshold(10);
  p.set_lockout_seconds(1800);
  p.set_max_lockout_seconds(86400);
  LockoutRule rule = LockoutRule::From(p);
  EXPECT_EQ(rule.threshold, 10u);
  EXPECT_EQ(rule.first, absl::Minutes(30));
  EXPECT_EQ(rule.longest, absl::Hours(24));
}

TEST(SourceLimiterTest, AllowsABurstThenTheRate) {
  SourceLimiter limiter;
  SourceLimiter::Rate rate{6, 3};  // one token every 10 s, burst 3
  absl::Time retry;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.Allowed("10.0.0.1", rate, kT0, &retry));
    limiter.RecordFailure("10.0.0.1", rate, kT0);
  }
  EXPECT_FALSE(limiter.Allowed("10.0.0.1", rate, kT0, &retry));
  EXPECT_EQ(retry, kT0 + absl::Seconds(10));
  EXPECT_TRUE(limiter.Allowed("10.0.0.2", rate, kT0, &retry));  // per source
  EXPECT_TRUE(limiter.Allowed("10.0.0.1", rate, kT0 + absl::Seconds(10), &retry));
}

TEST(SourceLimiterTest, StaysBoundedInMemory) {
  SourceLimiter limiter(/*max_sources=*/10);
  SourceLimiter::Rate rate{1, 1};
  for (int i = 0; i < 100; ++i) {
    limiter.RecordFailure("s" + std::to_string(i), rate, kT0);
  }
  absl::Time retry;
  // The last source is still tracked.
  EXPECT_FALSE(limiter.Allowed("s99", rate, kT0, &retry));
}

TEST(PhantomFailuresTest, TracksAndForgets) {
  PhantomFailures phantoms(/*max_ids=*/2);
  FailureState s;
  s.failures = 2;
  phantoms.Put("ghost", s, kT0);
  EXPECT_EQ(phantoms.Get("ghost").failures, 2u);
  EXPECT_TRUE(phantoms.Erase("ghost"));
  EXPECT_FALSE(phantoms.Erase("ghost"));
  EXPECT_EQ(phantoms.Get("ghost").failures, 0u);
  // Locked ids survive eviction of unlocked ones.
  FailureState locked;
  locked.lockouts = 1;
  locked.locked_until = kT0 + absl::Hours(1);
  phantoms.Put("a", locked, kT0);
  phantoms.Put("b", s, kT0);
  phantoms.Put("c", s, kT0);
  EXPECT_TRUE(IsLocked(phantoms.Get("a"), kT0));
  EXPECT_EQ(phantoms.Get("c").failures, 2u);
}

}  // namespace
}  // namespace iam::password
