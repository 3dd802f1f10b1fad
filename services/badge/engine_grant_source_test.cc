#include "services/badge/engine_grant_source.h"

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/badge/admission.h"
#include "services/badge/area_registry.h"
#include "services/badge/badge_registry.h"
#include "services/badge/fake_grant_source.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::badge {
namespace {

constexpr char kScope[] = "site/sz/area/server_room";

constexpr char kAuthzPolicy[] = R"pb(
  permissions { name: "area.door:enter" }
  permissions { name: "mes.work_order:view" }
  roles { name: "it_administrator" permissions: "area.door:enter" }
  roles { name: "viewer" permissions: "mes.work_order:view" }
  scopes { path: "site/sz" }
  scopes { path: "site/sz/area/server_room" }
)pb";

constexpr char kAreas[] = R"pb(
  areas {
    id: "sz-server-room"
    scope: "site/sz/area/server_room"
    security_level: 3
    owner: "p-owner"
    time_zone: "Asia/Shanghai"
    doors { id: "sr-1" }
    anti_passback: ANTI_PASSBACK_HARD
    access_levels { name: "it" roles: "it_administrator" }
  }
)pb";

iam::v1::SyncSubjectRequest Subject(const std::string& id, iam::v1::PersonStatus status,
                                    const std::string& group = "") {
  iam::v1::SyncSubjectRequest s;
  s.set_person_id(id);
  s.set_status(status);
  if (!group.empty()) s.add_groups(group);
  return s;
}

class EngineGrantSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = authz::AuthzEngine::Open(&store_, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    iam::v1::PolicyDocument policy;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kAuthzPolicy, &policy));
    ASSERT_TRUE(engine_->ApplyPolicy(policy, /*dry_run=*/false).ok());
    source_ = std::make_unique<EngineGrantSource>(engine_.get(), &clock_, &identity_);
    ASSERT_TRUE(engine_
                    ->SyncSubjects({Subject("p-it", iam::v1::PERSON_STATUS_ACTIVE, "grp.it"),
                                    Subject("p-direct", iam::v1::PERSON_STATUS_ACTIVE),
                                    Subject("p-none", iam::v1::PERSON_STATUS_ACTIVE)})
                    .ok());
    group_binding_ = Bind(iam::v1::SUBJECT_KIND_GROUP, "grp.it", "it_administrator",
                          "site/sz");
    // Identity's view of the people (the status source).
    for (const char* p : {"p-it", "p-direct", "p-none", "p-unsynced"}) {
      identity_.SetStatus(p, iam::v1::PERSON_STATUS_ACTIVE);
    }
  }

  std::string Bind(iam::v1::SubjectKind kind, const std::string& who,
                   const std::string& role, const std::string& scope,
                   absl::Time expires = absl::InfiniteFuture()) {
    iam::v1::RoleBinding b;
    b.mutable_subject()->set_kind(kind);
    b.mutable_subject()->set_id(who);
    b.set_role(role);
    b.set_scope(scope);
    if (expires != absl::InfiniteFuture()) b.set_expires_at_unix(absl::ToUnixSeconds(expires));
    b.set_reason("ticket IAM-5");
    auto created = engine_->CreateBindings({b}, "admin");
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->first.at(0).id() : "";
  }

  // The admission path over the real engine, as iamd wires it.
  void OpenAdmission() {
    iam::v1::PolicyDocument doc;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kAreas, &doc));
    auto areas = AreaRegistry::Open(&store_);
    ASSERT_TRUE(areas.ok());
    areas_ = std::move(*areas);
    ASSERT_TRUE(areas_->Apply(doc).ok());
    auto badges = BadgeRegistry::Open(&store_, &clock_);
    ASSERT_TRUE(badges.ok());
    badges_ = std::move(*badges);
    auto admitter = Admitter::Open(areas_.get(), badges_.get(), &store_, &clock_, {});
    ASSERT_TRUE(admitter.ok());
    admitter_ = std::move(*admitter);
    admitter_->set_grant_source(source_.get());
    BadgeRegistry::IssueRequest r;
    r.person_id = "p-it";
    r.card_number = "11111111";
    r.kind = iam::v1::BADGE_KIND_EMPLOYEE;
    r.expires_at = clock_.Now() + absl::Hours(24 * 30);
    r.reason = "test";
    ASSERT_TRUE(badges_->Issue(r).ok());
  }

  AdmitDecision Present(iam::v1::Direction direction) {
    AdmitInput in;
    in.door_id = "sr-1";
    in.card_number = "11111111";
    in.direction = direction;
    in.presented_at_unix_micros = absl::ToUnixMicros(clock_.Now());
    AdmitDecision d = admitter_->Admit(in, [](const AdmitDecision&) { return absl::OkStatus(); });
    // Past the two-doors window, so the next presentation is a fresh one.
    clock_.Advance(absl::Seconds(5));
    return d;
  }

  MemoryStore store_;  // DefaultColumns() include the badge column
  FakeClock clock_{absl::FromUnixSeconds(1790000000)};
  std::unique_ptr<authz::AuthzEngine> engine_;
  FakeGrantSource identity_;
  std::unique_ptr<EngineGrantSource> source_;
  std::string group_binding_;
  std::unique_ptr<AreaRegistry> areas_;
  std::unique_ptr<BadgeRegistry> badges_;
  std::unique_ptr<Admitter> admitter_;
};

TEST_F(EngineGrantSourceTest, GrantsThroughAGroupAtAParentScopeWithoutAskingIdentity) {
  GrantSource& source = *source_;
  absl::StatusOr<PersonGrants> g = source.Lookup("p-it", kScope);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->status, iam::v1::PERSON_STATUS_ACTIVE);
  ASSERT_TRUE(g->roles.contains("it_administrator"));
  EXPECT_EQ(g->roles.at("it_administrator"), absl::InfiniteFuture());
  EXPECT_FALSE(g->roles.contains("viewer"));
  EXPECT_EQ(identity_.lookups(), 0);
}

TEST_F(EngineGrantSourceTest, KeepsTheLatestEndOfARoleGrantedTwice) {
  const absl::Time soon = clock_.Now() + absl::Hours(1);
  const absl::Time later = clock_.Now() + absl::Hours(8);
  Bind(iam::v1::SUBJECT_KIND_PERSON, "p-direct", "it_administrator", kScope, soon);
  Bind(iam::v1::SUBJECT_KIND_PERSON, "p-direct", "it_administrator", "site/sz", later);
  GrantSource& source = *source_;
  absl::StatusOr<PersonGrants> g = source.Lookup("p-direct", kScope);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->roles.at("it_administrator"), later);
  // An expired grant is gone at that second.
  clock_.Advance(absl::Hours(8));
  g = source.Lookup("p-direct", kScope);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(g->roles.empty());
}

TEST_F(EngineGrantSourceTest, WithoutGrantsTheStatusComesFromTheStatusSource) {
  GrantSource& source = *source_;
  // Known to authz, nothing granted at this scope.
  absl::StatusOr<PersonGrants> g = source.Lookup("p-none", kScope);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(g->roles.empty());
  EXPECT_EQ(g->status, iam::v1::PERSON_STATUS_ACTIVE);
  // Never synced to authz: holds nothing; identity knows them.
  g = source.Lookup("p-unsynced", kScope);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(g->roles.empty());
  EXPECT_EQ(g->status, iam::v1::PERSON_STATUS_ACTIVE);
  // Unknown everywhere.
  EXPECT_TRUE(absl::IsNotFound(source.Lookup("p-ghost", kScope).status()));
  EXPECT_TRUE(absl::IsNotFound(source.Status("p-ghost").status()));
}

TEST_F(EngineGrantSourceTest, FailsClosedOnAnUndeclaredScopeOrAStatusSourceDown) {
  GrantSource& source = *source_;
  absl::StatusOr<PersonGrants> g = source.Lookup("p-it", "site/sz/area/nowhere");
  EXPECT_EQ(g.status().code(), absl::StatusCode::kUnavailable) << g.status();
  EXPECT_NE(g.status().message().find("site/sz/area/nowhere"), std::string::npos)
      << g.status();
  identity_.set_failing(true);
  EXPECT_EQ(source.Lookup("p-none", kScope).status().code(),
            absl::StatusCode::kUnavailable);
  // Grants from the snapshot still answer without identity.
  EXPECT_TRUE(source.Lookup("p-it", kScope).ok());
}

TEST_F(EngineGrantSourceTest, AnUnbindingDeniesTheVeryNextAdmit) {
  OpenAdmission();
  AdmitDecision d = Present(iam::v1::DIRECTION_ENTRY);
  EXPECT_TRUE(d.admitted) << d.reason;
  EXPECT_TRUE(Present(iam::v1::DIRECTION_EXIT).admitted);

  ASSERT_TRUE(engine_->DeleteBinding(group_binding_).ok());
  d = Present(iam::v1::DIRECTION_ENTRY);
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("no access level"), std::string::npos) << d.reason;

  // Granted again: admitted again, without any cache to wait out.
  Bind(iam::v1::SUBJECT_KIND_PERSON, "p-it", "it_administrator", kScope);
  d = Present(iam::v1::DIRECTION_ENTRY);
  EXPECT_TRUE(d.admitted) << d.reason;
}

TEST_F(EngineGrantSourceTest, APersonWhoLeftIsDeniedAtOnceEvenBeforeIdentityCommits) {
  OpenAdmission();
  EXPECT_TRUE(Present(iam::v1::DIRECTION_ENTRY).admitted);
  EXPECT_TRUE(Present(iam::v1::DIRECTION_EXIT).admitted);

  // Identity tells authz first; its own record may still say active.
  ASSERT_TRUE(
      engine_->SyncSubjects({Subject("p-it", iam::v1::PERSON_STATUS_LEFT, "grp.it")}).ok());
  AdmitDecision d = Present(iam::v1::DIRECTION_ENTRY);
  EXPECT_FALSE(d.admitted) << d.reason;
  // Once identity has it too, the reason says so.
  identity_.SetStatus("p-it", iam::v1::PERSON_STATUS_LEFT);
  d = Present(iam::v1::DIRECTION_ENTRY);
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("is left"), std::string::npos) << d.reason;
}

TEST_F(EngineGrantSourceTest, ASuspensionDeniesAndAReinstatementAdmitsAgain) {
  OpenAdmission();
  ASSERT_TRUE(engine_
                  ->SyncSubjects(
                      {Subject("p-it", iam::v1::PERSON_STATUS_SUSPENDED, "grp.it")})
                  .ok());
  identity_.SetStatus("p-it", iam::v1::PERSON_STATUS_SUSPENDED);
  AdmitDecision d = Present(iam::v1::DIRECTION_ENTRY);
  EXPECT_FALSE(d.admitted);
  EXPECT_NE(d.reason.find("is suspended"), std::string::npos) << d.reason;
  ASSERT_TRUE(
      engine_->SyncSubjects({Subject("p-it", iam::v1::PERSON_STATUS_ACTIVE, "grp.it")}).ok());
  identity_.SetStatus("p-it", iam::v1::PERSON_STATUS_ACTIVE);
  d = Present(iam::v1::DIRECTION_ENTRY);
  EXPECT_TRUE(d.admitted) << d.reason;
}

}  // namespace
}  // namespace iam::badge
