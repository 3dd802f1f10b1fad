#include "admin/values.h"

#include "gtest/gtest.h"

namespace iam::admin {
namespace {

TEST(ParseRfc3339Test, AcceptsUtcAndOffsets) {
  absl::StatusOr<absl::Time> utc = ParseRfc3339("2026-12-31T18:00:00Z");
  ASSERT_TRUE(utc.ok()) << utc.status();
  EXPECT_EQ(absl::ToUnixSeconds(*utc), 1798740000);
  absl::StatusOr<absl::Time> plus_two =
      ParseRfc3339("2026-12-31T20:00:00+02:00");
  ASSERT_TRUE(plus_two.ok()) << plus_two.status();
  EXPECT_EQ(*plus_two, *utc);
  absl::StatusOr<absl::Time> fractional =
      ParseRfc3339("2026-12-31T18:00:00.250Z");
  ASSERT_TRUE(fractional.ok());
  EXPECT_EQ(*fractional - *utc, absl::Milliseconds(250));
}

TEST(ParseRfc3339Test, RejectsTimeWithoutZone) {
  absl::StatusOr<absl::Time> parsed = ParseRfc3339("2026-12-31T18:00:00");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("time zone offset"),
            absl::string_view::npos);
}

TEST(ParseRfc3339Test, RejectsOtherShapes) {
  for (const char* text :
       {"", "2026-12-31", "2026-12-31 18:00:00Z", "tomorrow",
        "2026-13-01T00:00:00Z", "2026-12-31T18:00:00Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(text).ok()) << text;
  }
}

TEST(FormatTest, PrintsRfc3339UtcAndZeroAsEmpty) {
  EXPECT_EQ(FormatRfc3339Utc(absl::FromUnixSeconds(1798740000)),
            "2026-12-31T18:00:00Z");
  EXPECT_EQ(FormatUnixSeconds(1798740000), "2026-12-31T18:00:00Z");
  EXPECT_EQ(FormatUnixMicros(1798740000123456), "2026-12-31T18:00:00Z");
  EXPECT_EQ(FormatUnixSeconds(0), "");
  EXPECT_EQ(FormatUnixMicros(0), "");
}

TEST(FormatTest, RoundTripsThroughParse) {
  const absl::Time time = absl::FromUnixSeconds(1767225600);
  EXPECT_EQ(*ParseRfc3339(FormatRfc3339Utc(time)), time);
}

TEST(ParsePositiveDurationTest, AcceptsHoursMinutesAndDays) {
  EXPECT_EQ(*ParsePositiveDuration("8h"), absl::Hours(8));
  EXPECT_EQ(*ParsePositiveDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParsePositiveDuration("45s"), absl::Seconds(45));
  EXPECT_EQ(*ParsePositiveDuration("7d"), absl::Hours(7 * 24));
}

TEST(ParsePositiveDurationTest, RejectsZeroNegativeAndNonsense) {
  for (const char* text :
       {"", "0", "0s", "-1h", "8", "d", "1.5d", "inf", "x8h"}) {
    EXPECT_FALSE(ParsePositiveDuration(text).ok()) << text;
  }
}

TEST(ParseIntTest, EnforcesRange) {
  EXPECT_EQ(*ParseInt("50", 1, 1000), 50);
  EXPECT_FALSE(ParseInt("0", 1, 1000).ok());
  EXPECT_FALSE(ParseInt("1001", 1, 1000).ok());
  EXPECT_FALSE(ParseInt("ten", 1, 1000).ok());
}

TEST(EnumTest, ParsesPersonStatusCaseInsensitivelyAndNamesItBack) {
  EXPECT_EQ(*ParsePersonStatus("active"), iam::v1::PERSON_STATUS_ACTIVE);
  EXPECT_EQ(*ParsePersonStatus("LEFT"), iam::v1::PERSON_STATUS_LEFT);
  EXPECT_FALSE(ParsePersonStatus("fired").ok());
  for (const char* name : {"pending", "active", "suspended", "left"}) {
    EXPECT_EQ(PersonStatusName(*ParsePersonStatus(name)), name);
  }
}

TEST(EnumTest, ParsesAttestationsAndOutcomes) {
  EXPECT_EQ(*ParseAttestationType("security-agreement"),
            iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED);
  EXPECT_EQ(*ParseAttestationType("background-check"),
            iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED);
  EXPECT_FALSE(ParseAttestationType("nda").ok());
  EXPECT_EQ(
      AttestationTypeName(iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED),
      "background-check");
  EXPECT_EQ(*ParseAuditOutcome("denied"), iam::v1::AUDIT_OUTCOME_DENIED);
  EXPECT_FALSE(ParseAuditOutcome("ok").ok());
  EXPECT_EQ(AuditOutcomeName(iam::v1::AUDIT_OUTCOME_FAILED), "failed");
}

TEST(EnumTest, SignsPolicyChanges) {
  EXPECT_EQ(PolicyChangeSign(iam::v1::PolicyChange::KIND_ADD), "+");
  EXPECT_EQ(PolicyChangeSign(iam::v1::PolicyChange::KIND_REMOVE), "-");
  EXPECT_EQ(PolicyChangeSign(iam::v1::PolicyChange::KIND_CHANGE), "~");
  EXPECT_EQ(PolicyChangeSign(iam::v1::PolicyChange::KIND_UNSPECIFIED), "?");
}

}  // namespace
}  // namespace iam::admin
