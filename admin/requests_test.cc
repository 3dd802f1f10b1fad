#include "admin/requests.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace iam::admin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ParsedArgs Parse(const std::vector<FlagSpec>& flags,
                 const std::vector<std::string>& args) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(flags, args);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return *parsed;
}

template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& result) {
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

const absl::Time kNow =
    absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

TEST(CreatePersonRequestTest, CopiesEveryField) {
  absl::StatusOr<iam::v1::CreatePersonRequest> request =
      BuildCreatePersonRequest(
          Parse(PersonCreateFlags(),
                {"p-1", "--name", "Ann", "--org-unit", "ou/qa", "--job", "QA",
                 "--site", "sz", "--manager", "p-9", "--status", "active",
                 "--group", "a", "--group", "b", "--reason", "HR-7"}));
  ASSERT_TRUE(request.ok()) << request.status();
  const iam::v1::Person& person = request->person();
  EXPECT_EQ(person.id(), "p-1");
  EXPECT_EQ(person.display_name(), "Ann");
  EXPECT_EQ(person.org_unit(), "ou/qa");
  EXPECT_EQ(person.job_code(), "QA");
  EXPECT_EQ(person.site(), "sz");
  EXPECT_EQ(person.manager_id(), "p-9");
  EXPECT_EQ(person.status(), iam::v1::PERSON_STATUS_ACTIVE);
  EXPECT_THAT(person.groups(), ElementsAre("a", "b"));
  EXPECT_EQ(request->reason(), "HR-7");
}

TEST(CreatePersonRequestTest, RequiresNameOrgUnitJobAndSite) {
  EXPECT_EQ(ErrorOf(BuildCreatePersonRequest(Parse(
                PersonCreateFlags(),
                {"p-1", "--name", "Ann", "--job", "QA", "--site", "sz"}))),
            "--org-unit is required");
  EXPECT_EQ(ErrorOf(BuildCreatePersonRequest(Parse(
                PersonCreateFlags(), {"p-1", "--name", " ", "--org-unit", "o",
                                      "--job", "QA", "--site", "sz"}))),
            "--name is required");
}

TEST(CreatePersonRequestTest, RejectsUnknownStatus) {
  EXPECT_THAT(ErrorOf(BuildCreatePersonRequest(
                  Parse(PersonCreateFlags(),
                        {"p-1", "--name", "A", "--org-unit", "o", "--job", "J",
                         "--site", "s", "--status", "gone"}))),
              HasSubstr("--status: invalid status \"gone\""));
}

TEST(UpdatePersonRequestTest, MaskHoldsExactlyTheGivenFields) {
  absl::StatusOr<iam::v1::UpdatePersonRequest> request =
      BuildUpdatePersonRequest(
          Parse(PersonUpdateFlags(),
                {"p-1", "--job", "LINE_LEAD", "--status", "suspended"}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->person().id(), "p-1");
  EXPECT_EQ(request->person().job_code(), "LINE_LEAD");
  EXPECT_EQ(request->person().status(), iam::v1::PERSON_STATUS_SUSPENDED);
  EXPECT_THAT(request->update_mask(), ElementsAre("job_code", "status"));
}

TEST(UpdatePersonRequestTest, EmptyManagerClearsIt) {
  absl::StatusOr<iam::v1::UpdatePersonRequest> request =
      BuildUpdatePersonRequest(
          Parse(PersonUpdateFlags(), {"p-1", "--manager", ""}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->person().manager_id(), "");
  EXPECT_THAT(request->update_mask(), ElementsAre("manager_id"));
}

TEST(UpdatePersonRequestTest, GroupsReplaceOrClear) {
  absl::StatusOr<iam::v1::UpdatePersonRequest> replace =
      BuildUpdatePersonRequest(
          Parse(PersonUpdateFlags(), {"p-1", "--group", "a", "--group", "b"}));
  ASSERT_TRUE(replace.ok());
  EXPECT_THAT(replace->person().groups(), ElementsAre("a", "b"));
  EXPECT_THAT(replace->update_mask(), ElementsAre("groups"));

  absl::StatusOr<iam::v1::UpdatePersonRequest> clear = BuildUpdatePersonRequest(
      Parse(PersonUpdateFlags(), {"p-1", "--clear-groups"}));
  ASSERT_TRUE(clear.ok());
  EXPECT_THAT(clear->person().groups(), IsEmpty());
  EXPECT_THAT(clear->update_mask(), ElementsAre("groups"));

  EXPECT_THAT(
      ErrorOf(BuildUpdatePersonRequest(Parse(
          PersonUpdateFlags(), {"p-1", "--group", "a", "--clear-groups"}))),
      HasSubstr("not both"));
}

TEST(UpdatePersonRequestTest, RefusesEmptyMaskWhichWouldReplaceEverything) {
  EXPECT_THAT(ErrorOf(BuildUpdatePersonRequest(
                  Parse(PersonUpdateFlags(), {"p-1", "--reason", "typo"}))),
              HasSubstr("nothing to update"));
}

TEST(ListPeopleRequestTest, CopiesFiltersAndPageSize) {
  absl::StatusOr<iam::v1::ListPeopleRequest> request = BuildListPeopleRequest(
      Parse(PersonListFlags(),
            {"--site", "sz", "--status", "left", "--page-size", "50"}));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->site(), "sz");
  EXPECT_EQ(request->status(), iam::v1::PERSON_STATUS_LEFT);
  EXPECT_EQ(request->page_size(), 50);
  EXPECT_THAT(ErrorOf(BuildListPeopleRequest(
                  Parse(PersonListFlags(), {"--page-size", "0"}))),
              HasSubstr("--page-size"));
}

TEST(CreateBindingRequestTest, BindsPersonWithoutExpiry) {
  absl::StatusOr<iam::v1::CreateBindingRequest> request =
      BuildCreateBindingRequest(
          Parse(BindFlags(),
                {"--person", "p-1", "--role", "line_lead", "--scope",
                 "site/sz/line/3", "--reason", "CHG-9"}),
          kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  const iam::v1::RoleBinding& binding = request->binding();
  EXPECT_EQ(binding.subject().kind(), iam::v1::SUBJECT_KIND_PERSON);
  EXPECT_EQ(binding.subject().id(), "p-1");
  EXPECT_EQ(binding.role(), "line_lead");
  EXPECT_EQ(binding.scope(), "site/sz/line/3");
  EXPECT_EQ(binding.reason(), "CHG-9");
  EXPECT_EQ(binding.expires_at_unix(), 0);
}

TEST(CreateBindingRequestTest, ForCountsFromNow) {
  absl::StatusOr<iam::v1::CreateBindingRequest> request =
      BuildCreateBindingRequest(
          Parse(BindFlags(), {"--group", "smt", "--role", "r", "--scope", "/",
                              "--for", "8h", "--reason", "shift cover"}),
          kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->binding().subject().kind(), iam::v1::SUBJECT_KIND_GROUP);
  EXPECT_EQ(request->binding().expires_at_unix(), 1767225600 + 8 * 3600);
}

TEST(CreateBindingRequestTest, ExpiresTakesRfc3339WithZone) {
  absl::StatusOr<iam::v1::CreateBindingRequest> request =
      BuildCreateBindingRequest(
          Parse(BindFlags(),
                {"--person", "p", "--role", "r", "--scope", "/", "--expires",
                 "2026-12-31T20:00:00+02:00", "--reason", "x"}),
          kNow);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->binding().expires_at_unix(), 1798740000);

  EXPECT_THAT(ErrorOf(BuildCreateBindingRequest(
                  Parse(BindFlags(),
                        {"--person", "p", "--role", "r", "--scope", "/",
                         "--expires", "2026-12-31T18:00:00", "--reason", "x"}),
                  kNow)),
              HasSubstr("time zone offset"));
}

TEST(CreateBindingRequestTest, RejectsPastExpiry) {
  EXPECT_THAT(ErrorOf(BuildCreateBindingRequest(
                  Parse(BindFlags(),
                        {"--person", "p", "--role", "r", "--scope", "/",
                         "--expires", "2025-06-01T00:00:00Z", "--reason", "x"}),
                  kNow)),
              HasSubstr("already passed"));
}

TEST(CreateBindingRequestTest, RejectsBadCombinations) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--role", "r", "--scope", "/", "--reason", "x"},
       "give --person ID or --group GROUP"},
      {{"--person", "p", "--group", "g", "--role", "r", "--scope", "/",
        "--reason", "x"},
       "give --person or --group, not both"},
      {{"--person", "p", "--scope", "/", "--reason", "x"},
       "--role is required"},
      {{"--person", "p", "--role", "r", "--reason", "x"},
       "--scope is required"},
      {{"--person", "p", "--role", "r", "--scope", "/"},
       "--reason is required"},
      {{"--person", "p", "--role", "r", "--scope", "/", "--reason", "  "},
       "--reason is required"},
      {{"--person", "", "--role", "r", "--scope", "/", "--reason", "x"},
       "--person is required"},
      {{"--person", "p", "--role", "r", "--scope", "/", "--reason", "x",
        "--for", "8h", "--expires", "2026-12-31T18:00:00Z"},
       "give --expires or --for, not both"},
  };
  for (const auto& [args, error] : cases) {
    EXPECT_THAT(
        ErrorOf(BuildCreateBindingRequest(Parse(BindFlags(), args), kNow)),
        HasSubstr(error))
        << args.size();
  }
  EXPECT_THAT(ErrorOf(BuildCreateBindingRequest(
                  Parse(BindFlags(), {"--person", "p", "--role", "r", "--scope",
                                      "/", "--for", "-1h", "--reason", "x"}),
                  kNow)),
              HasSubstr("--for: invalid duration"));
}

TEST(ListBindingsRequestTest, FiltersBySubjectRoleAndScope) {
  absl::StatusOr<iam::v1::ListBindingsRequest> request =
      BuildListBindingsRequest(
          Parse(BindingsFlags(),
                {"--group", "smt", "--role", "r", "--scope", "site/sz"}));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->subject().kind(), iam::v1::SUBJECT_KIND_GROUP);
  EXPECT_EQ(request->subject().id(), "smt");
  EXPECT_EQ(request->role(), "r");
  EXPECT_EQ(request->scope(), "site/sz");

  absl::StatusOr<iam::v1::ListBindingsRequest> any =
      BuildListBindingsRequest(Parse(BindingsFlags(), {}));
  ASSERT_TRUE(any.ok());
  EXPECT_FALSE(any->has_subject());
  EXPECT_FALSE(BuildListBindingsRequest(
                   Parse(BindingsFlags(), {"--person", "p", "--group", "g"}))
                   .ok());
}

TEST(AuditQueryTest, ConvertsFiltersAndTimes) {
  absl::StatusOr<AuditQuery> query = BuildAuditQuery(Parse(
      AuditQueryFlags(),
      {"--person", "p-1", "--caller", "admin", "--action", "authz.", "--target",
       "b-1", "--outcome", "denied", "--since", "2026-01-01T00:00:00Z",
       "--until", "2026-01-01T16:00:00+08:00", "--limit", "5000"}));
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->request.person_id(), "p-1");
  EXPECT_EQ(query->request.caller(), "admin");
  EXPECT_EQ(query->request.action_prefix(), "authz.");
  EXPECT_EQ(query->request.target(), "b-1");
  EXPECT_EQ(query->request.outcome(), iam::v1::AUDIT_OUTCOME_DENIED);
  EXPECT_EQ(query->request.since_unix_micros(), 1767225600000000);
  EXPECT_EQ(query->request.until_unix_micros(), 1767254400000000);  // 08:00Z
  EXPECT_EQ(query->limit, 5000);
}

TEST(AuditQueryTest, DefaultsLimitAndLeavesTimesUnbounded) {
  absl::StatusOr<AuditQuery> query =
      BuildAuditQuery(Parse(AuditQueryFlags(), {}));
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->limit, kDefaultAuditLimit);
  EXPECT_EQ(query->request.since_unix_micros(), 0);
  EXPECT_EQ(query->request.until_unix_micros(), 0);
}

TEST(AuditQueryTest, RejectsBadValues) {
  EXPECT_THAT(ErrorOf(BuildAuditQuery(
                  Parse(AuditQueryFlags(), {"--since", "yesterday"}))),
              HasSubstr("--since"));
  EXPECT_THAT(
      ErrorOf(BuildAuditQuery(Parse(AuditQueryFlags(), {"--outcome", "ok"}))),
      HasSubstr("--outcome"));
  EXPECT_THAT(
      ErrorOf(BuildAuditQuery(Parse(AuditQueryFlags(), {"--limit", "0"}))),
      HasSubstr("--limit"));
  EXPECT_THAT(ErrorOf(BuildAuditQuery(Parse(
                  AuditQueryFlags(), {"--since", "2026-01-02T00:00:00Z",
                                      "--until", "2026-01-01T00:00:00Z"}))),
              HasSubstr("later than --since"));
}

TEST(PutRoleRequestTest, CopiesPermissionsAndParents) {
  absl::StatusOr<iam::v1::PutRoleRequest> request = BuildPutRoleRequest(
      Parse(RolePutFlags(),
            {"line_lead", "--permission", "a:b", "--permission", "c:d",
             "--inherits", "line_operator", "--description", "lead"}));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->role().name(), "line_lead");
  EXPECT_THAT(request->role().permissions(), ElementsAre("a:b", "c:d"));
  EXPECT_THAT(request->role().inherits(), ElementsAre("line_operator"));
  EXPECT_EQ(request->role().description(), "lead");
}

TEST(PutRoleRequestTest, RefusesRoleThatGrantsNothing) {
  // A put replaces the role: `role put x --description y` would strip it.
  EXPECT_THAT(ErrorOf(BuildPutRoleRequest(Parse(
                  RolePutFlags(), {"line_lead", "--description", "new text"}))),
              HasSubstr("grants nothing"));
}

}  // namespace
}  // namespace iam::admin
