#include "services/audit/alerts.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace iam::audit {
namespace {

using iam::v1::AuditAlertRule;
using iam::v1::AuditRecord;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

AuditAlertRule Rule(const std::string& text) {
  AuditAlertRule rule;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &rule)) << text;
  return rule;
}

AuditRecord At(int64_t seq, absl::Time t, const std::string& action,
               iam::v1::AuditOutcome outcome, const std::string& person,
               const std::string& target = "") {
  AuditRecord r;
  r.set_sequence(seq);
  r.set_time_unix_micros(absl::ToUnixMicros(t));
  r.set_action(action);
  r.set_outcome(outcome);
  r.set_person_id(person);
  r.set_target(target);
  return r;
}

const absl::Time kMonday10Utc = absl::FromCivil(
    absl::CivilSecond(2026, 3, 2, 10, 0, 0), absl::UTCTimeZone());

TEST(AlertEvaluatorTest, RepeatedFailedLoginsForOnePersonWithinTheWindow) {
  auto eval = AlertEvaluator::Create({Rule(R"pb(
    name: "failed_logins"
    repeated_events {
      match { actions: "password.authenticate" outcome: "DENIED" }
      count: 3
      window_seconds: 300
    })pb")});
  ASSERT_TRUE(eval.ok()) << eval.status();
  auto denied = [&](int64_t seq, absl::Duration after, const std::string& who) {
    return (*eval)->Observe(At(seq, kMonday10Utc + after, "password.authenticate",
                               iam::v1::AUDIT_OUTCOME_DENIED, who));
  };
  EXPECT_THAT(denied(1, absl::Minutes(0), "p-1"), IsEmpty());
  EXPECT_THAT(denied(2, absl::Minutes(1), "p-2"), IsEmpty());
  EXPECT_THAT(denied(3, absl::Minutes(2), "p-1"), IsEmpty());
  // A success does not count.
  EXPECT_THAT((*eval)->Observe(At(4, kMonday10Utc + absl::Minutes(3),
                                  "password.authenticate",
                                  iam::v1::AUDIT_OUTCOME_SUCCESS, "p-1")),
              IsEmpty());
  auto alerts = denied(5, absl::Minutes(4), "p-1");
  ASSERT_THAT(alerts, SizeIs(1));
  EXPECT_EQ(alerts[0].kind(), iam::v1::AUDIT_RECORD_KIND_ALERT);
  EXPECT_EQ(alerts[0].target(), "failed_logins");
  EXPECT_EQ(alerts[0].person_id(), "p-1");
  EXPECT_THAT(alerts[0].alert_sequences(), ElementsAre(1, 3, 5));
  // Outside the window the count starts over.
  EXPECT_THAT(denied(6, absl::Minutes(20), "p-1"), IsEmpty());
}

TEST(AlertEvaluatorTest, KeyAreaEntryOutsideTheShiftsAlerts) {
  auto eval = AlertEvaluator::Create({Rule(R"pb(
    name: "off_schedule_entry"
    off_schedule {
      match { actions: "badge.admit" outcome: "SUCCESS" target_prefix: "site/sz/area/" }
      allowed { days: ["mon", "tue", "wed", "thu", "fri"] start: "08:00" end: "20:00" }
      time_zone: "Asia/Shanghai"
    })pb")});
  ASSERT_TRUE(eval.ok()) << eval.status();
  // Monday 10:00 UTC is 18:00 in Shanghai: inside.
  EXPECT_THAT((*eval)->Observe(At(1, kMonday10Utc, "badge.admit",
                                  iam::v1::AUDIT_OUTCOME_SUCCESS, "p-1",
                                  "site/sz/area/burning")),
              IsEmpty());
  // Monday 14:00 UTC is 22:00 in Shanghai: outside.
  auto alerts = (*eval)->Observe(At(2, kMonday10Utc + absl::Hours(4), "badge.admit",
                                    iam::v1::AUDIT_OUTCOME_SUCCESS, "p-1",
                                    "site/sz/area/burning"));
  ASSERT_THAT(alerts, SizeIs(1));
  EXPECT_THAT(alerts[0].reason(), HasSubstr("outside the allowed shifts"));
  // Another site's area is not watched by this rule.
  EXPECT_THAT((*eval)->Observe(At(3, kMonday10Utc + absl::Hours(4), "badge.admit",
                                  iam::v1::AUDIT_OUTCOME_SUCCESS, "p-1",
                                  "site/hz/area/burning")),
              IsEmpty());
}

TEST(AlertEvaluatorTest, AnyChangeToAnAdminRoleAlerts) {
  auto eval = AlertEvaluator::Create({Rule(R"pb(
    name: "admin_role_change"
    any_record {
      actions: ["authz.role.put", "authz.binding.create", "authz.binding.delete"]
      roles: "iam_admin"
    })pb")});
  ASSERT_TRUE(eval.ok()) << eval.status();
  AuditRecord bind = At(7, kMonday10Utc, "authz.binding.create",
                        iam::v1::AUDIT_OUTCOME_SUCCESS, "p-3", "b-17");
  auto* label = bind.add_labels();
  label->set_key("role");
  label->set_value("iam_admin");
  EXPECT_THAT((*eval)->Observe(bind), SizeIs(1));
  label->set_value("line_lead");
  EXPECT_THAT((*eval)->Observe(bind), IsEmpty());
  EXPECT_THAT((*eval)->Observe(At(8, kMonday10Utc, "authz.role.put",
                                  iam::v1::AUDIT_OUTCOME_SUCCESS, "", "iam_admin")),
              SizeIs(1));
  // A record about several roles (all of a leaver's bindings in one
  // deletion) alerts if any of them is watched.
  AuditRecord several = At(9, kMonday10Utc, "authz.binding.delete",
                           iam::v1::AUDIT_OUTCOME_SUCCESS, "p-3", "b-17,b-18");
  for (const char* role : {"line_lead", "iam_admin"}) {
    auto* l = several.add_labels();
    l->set_key("role");
    l->set_value(role);
  }
  EXPECT_THAT((*eval)->Observe(several), SizeIs(1));
}

TEST(AlertEvaluatorTest, RejectsBadRulesWithWhatToFix) {
  auto check = [](const std::string& text, const std::string& want) {
    absl::Status s = ValidateAlertRules({Rule(text)});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(s.message()), HasSubstr(want));
  };
  check(R"pb(name: "Bad Name" any_record { actions: "x" })pb", "name must be");
  check(R"pb(name: "none")pb", "exactly one");
  check(R"pb(name: "r" repeated_events { match { actions: "x" } count: 1 window_seconds: 5 })pb",
        "count must be 2-1000");
  check(R"pb(name: "r" off_schedule { match { actions: "x" } time_zone: "Mars/Base"
             allowed { days: "mon" start: "08:00" end: "09:00" } })pb",
        "not a known IANA time zone");
  check(R"pb(name: "r" off_schedule { match { actions: "x" } time_zone: "UTC"
             allowed { days: "monday" start: "08:00" end: "09:00" } })pb",
        "is not one of");
  check(R"pb(name: "r" any_record { outcome: "MAYBE" actions: "x" })pb",
        "match.outcome");
  EXPECT_EQ(ValidateAlertRules({Rule(R"pb(name: "a" any_record { actions: "x" })pb"),
                                Rule(R"pb(name: "a" any_record { actions: "y" })pb")})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iam::audit
