#include "services/lifecycle/event_time.h"

#include "gtest/gtest.h"

namespace iam::lifecycle {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1780000000);

TEST(EventTimeTest, AcceptsOffsetsAndZ) {
  auto a = ParseEffectiveTime("2026-07-01T00:00:00+08:00", kNow);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(FormatEffectiveTime(*a), "2026-06-30T16:00:00Z");
  auto b = ParseEffectiveTime("2026-06-30T16:00:00Z", kNow);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*a, *b);
  auto c = ParseEffectiveTime("2026-06-30 16:00:00.75Z", kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, *b);  // seconds precision
}

TEST(EventTimeTest, EmptyMeansNow) {
  auto t = ParseEffectiveTime("  ", kNow);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, kNow);
}

TEST(EventTimeTest, RefusesMissingZoneAndSaysHowToFix) {
  auto t = ParseEffectiveTime("2026-07-01T09:00:00", kNow);
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("no time zone"), std::string::npos);
  EXPECT_NE(t.status().message().find("2026-07-01T09:00:00+08:00"), std::string::npos);
  auto d = ParseEffectiveTime("2026-07-01", kNow);
  ASSERT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("2026-07-01T00:00:00+08:00"), std::string::npos);
}

TEST(EventTimeTest, RefusesGarbageAndFarYears) {
  EXPECT_EQ(ParseEffectiveTime("tomorrow", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEffectiveTime("1999-12-31T23:59:59Z", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEffectiveTime("2026-13-01T00:00:00Z", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iam::lifecycle
