#include "services/authz/engine.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::authz {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kStart = 1700000000;
constexpr char kView[] = "mes.work_order:view";
constexpr char kRelease[] = "mes.work_order:release";
constexpr char kFlash[] = "burning.firmware:flash";

constexpr char kPolicy[] = R"pb(
  permissions { name: "mes.work_order:view" }
  permissions { name: "mes.work_order:release" }
  permissions { name: "burning.firmware:flash" }
  roles { name: "viewer" permissions: "mes.work_order:view" }
  roles { name: "operator" inherits: "viewer" }
  roles {
    name: "line_lead"
    permissions: "mes.work_order:release"
    inherits: "operator"
  }
  roles { name: "burner" permissions: "burning.firmware:flash" }
  scopes { path: "site/sz" }
  scopes { path: "site/sz/line/3" }
  scopes { path: "site/sz/line/3/station/7" }
  scopes { path: "site/sz/line/4" }
)pb";

iam::v1::PolicyDocument ParseDoc(const std::string& text) {
  iam::v1::PolicyDocument doc;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &doc));
  return doc;
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

iam::v1::SyncSubjectRequest Subject(const std::string& id,
                                    iam::v1::PersonStatus status,
                                    std::vector<std::string> groups = {}) {
  iam::v1::SyncSubjectRequest s;
  s.set_person_id(id);
  s.set_status(status);
  for (auto& g : groups) s.add_groups(g);
  return s;
}

iam::v1::RoleBinding Binding(iam::v1::SubjectKind kind, const std::string& who,
                             const std::string& role, const std::string& scope,
                             int64_t expires = 0) {
  iam::v1::RoleBinding b;
  b.mutable_subject()->set_kind(kind);
  b.mutable_subject()->set_id(who);
  b.set_role(role);
  b.set_scope(scope);
  b.set_expires_at_unix(expires);
  b.set_reason("ticket IAM-1");
  return b;
}

iam::v1::RoleBinding PersonBinding(const std::string& who, const std::string& role,
                                   const std::string& scope, int64_t expires = 0) {
  return Binding(iam::v1::SUBJECT_KIND_PERSON, who, role, scope, expires);
}

// A decision's formatted parts, as RPC responses and audit records carry them.
// The reason converts implicitly, as audit code stores it.
std::string ReasonOf(const Decision& d) {
  std::string converted = d.reason;
  EXPECT_EQ(converted, d.reason.str());
  return converted;
}
std::string BindingIdOf(const Decision& d) { return d.binding_id(); }
std::vector<std::string> RolePathOf(const Decision& d) { return d.role_path(); }

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = Open();
    ASSERT_TRUE(engine_->ApplyPolicy(ParseDoc(kPolicy), false).ok());
    ASSERT_TRUE(engine_
                    ->SyncSubjects({
                        Subject("alice", iam::v1::PERSON_STATUS_ACTIVE, {"burners"}),
                        Subject("bob", iam::v1::PERSON_STATUS_SUSPENDED),
                        Subject("carol", iam::v1::PERSON_STATUS_ACTIVE),
                        Subject("dave", iam::v1::PERSON_STATUS_LEFT),
                    })
                    .ok());
  }

  std::unique_ptr<AuthzEngine> Open() {
    auto engine = AuthzEngine::Open(&store_, &clock_);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return std::move(engine).value();
  }

  // Creates one binding and returns its id.
  std::string Bind(const iam::v1::RoleBinding& b) {
    auto created = engine_->CreateBindings({b}, "admin");
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return "";
    return created->first.at(0).id();
  }

  Decision Check(const std::string& who, const std::string& perm,
                 const std::string& scope) {
    return engine_->Check(who, perm, scope);
  }

  // Everything observable, to compare before and after a rejected write.
  struct State {
    Revision revision;
    Revision store_revision;
    iam::v1::PolicyDocument policy;
    std::vector<iam::v1::RoleBinding> bindings;
    std::vector<std::string> who_can_view;
  };
  State Observe() {
    auto snap = engine_->snapshot();
    auto who = snap->WhoCan(kView, "/", clock_.Now());
    return State{snap->revision(), store_.CurrentRevision(), snap->Policy(),
                 snap->ListBindings({}, "", "", "", 0),
                 who.ok() ? *who : std::vector<std::string>{"<error>"}};
  }
  void ExpectUnchanged(const State& before) {
    State after = Observe();
    EXPECT_EQ(after.revision, before.revision);
    EXPECT_EQ(after.store_revision, before.store_revision);
    EXPECT_TRUE(Same(after.policy, before.policy));
    ASSERT_EQ(after.bindings.size(), before.bindings.size());
    for (size_t i = 0; i < after.bindings.size(); ++i) {
      EXPECT_TRUE(Same(after.bindings[i], before.bindings[i]));
    }
    EXPECT_EQ(after.who_can_view, before.who_can_view);
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(kStart)};
  std::unique_ptr<AuthzEngine> engine_;
};

TEST_F(EngineTest, AllowsThroughInheritanceAndNamesBindingAndRolePath) {
  const std::string id = Bind(PersonBinding("alice", "line_lead", "site/sz"));
  Decision d = Check("alice", kView, "site/sz/line/3");
  EXPECT_TRUE(d.allowed) << d.reason.str();
  EXPECT_EQ(d.binding_id(), id);
  EXPECT_THAT(d.role_path(), ElementsAre("line_lead", "operator", "viewer"));
  EXPECT_THAT(d.reason.str(), HasSubstr("line_lead -> operator -> viewer"));
  EXPECT_EQ(d.revision, engine_->snapshot()->revision());

  Decision direct = Check("alice", kRelease, "site/sz");
  EXPECT_TRUE(direct.allowed);
  EXPECT_THAT(direct.role_path(), ElementsAre("line_lead"));
}

TEST_F(EngineTest, WriteReturnsTheRevisionDecisionsCarry) {
  auto created = engine_->CreateBindings({PersonBinding("alice", "viewer", "/")}, "admin");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->second, store_.CurrentRevision());
  EXPECT_EQ(Check("alice", kView, "/").revision, created->second);
  const iam::v1::RoleBinding& b = created->first.at(0);
  EXPECT_EQ(b.created_by(), "admin");
  EXPECT_EQ(b.created_at_unix(), kStart);
  EXPECT_FALSE(b.id().empty());
}

TEST_F(EngineTest, AnUnchangedSyncWritesNothingAndCarriesTheStoresRevision) {
  Bind(PersonBinding("alice", "viewer", "/"));
  const Revision before = store_.CurrentRevision();
  // Another service commits (identity, say): the store moves on, authz not.
  WriteBatch elsewhere;
  elsewhere.Put(kIdentityColumn, "person/alice", "x");
  ASSERT_TRUE(store_.Commit(elsewhere).ok());
  const Revision other = store_.CurrentRevision();
  ASSERT_GT(other, before);
  EXPECT_EQ(Check("alice", kView, "/").revision, before);

  // Alice's status and groups as they are: no write, and decisions now
  // carry the store's revision.
  bool changed = true;
  auto synced = engine_->SyncSubjects(
      {Subject("alice", iam::v1::PERSON_STATUS_ACTIVE, {"burners"})}, &changed);
  ASSERT_TRUE(synced.ok()) << synced.status();
  EXPECT_FALSE(changed);
  EXPECT_EQ(*synced, other);
  EXPECT_EQ(store_.CurrentRevision(), other);  // nothing committed
  Decision d = Check("alice", kView, "/");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.revision, other);

  // A new group is a change: committed.
  synced = engine_->SyncSubjects(
      {Subject("alice", iam::v1::PERSON_STATUS_ACTIVE, {"qa", "burners"})}, &changed);
  ASSERT_TRUE(synced.ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(*synced, other + 1);
  EXPECT_EQ(store_.CurrentRevision(), other + 1);
  // The same groups in another order, repeated: unchanged.
  synced = engine_->SyncSubjects(
      {Subject("alice", iam::v1::PERSON_STATUS_ACTIVE, {"burners", "qa", "qa"})},
      &changed);
  ASSERT_TRUE(synced.ok());
  EXPECT_FALSE(changed);
  EXPECT_EQ(store_.CurrentRevision(), other + 1);

  // Leaving is a change: committed, and denied from then on.
  synced = engine_->SyncSubjects({Subject("alice", iam::v1::PERSON_STATUS_LEFT)}, &changed);
  ASSERT_TRUE(synced.ok());
  EXPECT_TRUE(changed);
  EXPECT_EQ(*synced, store_.CurrentRevision());
  EXPECT_FALSE(Check("alice", kView, "/").allowed);
}

TEST_F(EngineTest, DeniesUnknownPerson) {
  Bind(PersonBinding("zed", "viewer", "/"));  // bound, but never synced
  Decision d = Check("zed", kView, "/");
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason.str(), HasSubstr("unknown person"));
  EXPECT_GT(d.revision, 0);
}

TEST_F(EngineTest, DeniesPeopleWhoAreNotActive) {
  Bind(PersonBinding("bob", "viewer", "/"));
  Bind(PersonBinding("dave", "viewer", "/"));
  EXPECT_THAT(Check("bob", kView, "/").reason.str(),
              HasSubstr("not active (PERSON_STATUS_SUSPENDED)"));
  EXPECT_THAT(Check("dave", kView, "/").reason.str(),
              HasSubstr("not active (PERSON_STATUS_LEFT)"));
  ASSERT_TRUE(engine_->SyncSubjects({Subject("eve", iam::v1::PERSON_STATUS_PENDING)}).ok());
  Bind(PersonBinding("eve", "viewer", "/"));
  EXPECT_FALSE(Check("eve", kView, "/").allowed);
}

TEST_F(EngineTest, DeniesUnknownPermissionAndScope) {
  Bind(PersonBinding("alice", "viewer", "/"));
  Decision perm = Check("alice", "mes.work_order:delete", "/");
  EXPECT_FALSE(perm.allowed);
  EXPECT_THAT(perm.reason.str(), HasSubstr("unknown permission"));
  Decision scope = Check("alice", kView, "site/bj");
  EXPECT_FALSE(scope.allowed);
  EXPECT_THAT(scope.reason.str(), HasSubstr("unknown scope"));
  EXPECT_THAT(Check("alice", kView, "").reason.str(), HasSubstr("unknown scope"));
}

TEST_F(EngineTest, DeniesWhenNoBindingGrants) {
  Bind(PersonBinding("alice", "viewer", "/"));
  Decision d = Check("alice", kRelease, "site/sz");
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason.str(), HasSubstr("no role binding grants"));
  EXPECT_TRUE(d.binding_id().empty());
  EXPECT_THAT(d.role_path(), IsEmpty());
  EXPECT_FALSE(Check("carol", kView, "/").allowed);
}

// The exact sentences, binding id and role path that responses and audit
// records carry, for every kind of decision: formatting them only on demand
// must not change a byte.
TEST_F(EngineTest, DecisionTextsAreExactForEveryOutcome) {
  const std::string group_id =
      Bind(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "burner", "site/sz"));
  const std::string lead_id = Bind(PersonBinding("alice", "line_lead", "site/sz/line/3"));
  const std::string expiring_id =
      Bind(PersonBinding("carol", "viewer", "site/sz", kStart + 60));
  Bind(PersonBinding("bob", "viewer", "/"));
  clock_.Set(absl::FromUnixSeconds(kStart + 60));

  Decision group = Check("alice", kFlash, "site/sz/line/3/station/7");
  EXPECT_TRUE(group.allowed);
  EXPECT_EQ(group.reason.code(), DecisionCode::kAllowed);
  EXPECT_EQ(ReasonOf(group), absl::StrCat("allowed by binding ", group_id,
                                          " (group burners): role burner at "
                                          "scope site/sz"));
  EXPECT_EQ(BindingIdOf(group), group_id);
  EXPECT_THAT(RolePathOf(group), ElementsAre("burner"));

  Decision inherited = Check("alice", kView, "site/sz/line/3/station/7");
  EXPECT_TRUE(inherited.allowed);
  EXPECT_EQ(inherited.reason.code(), DecisionCode::kAllowed);
  EXPECT_EQ(ReasonOf(inherited),
            absl::StrCat("allowed by binding ", lead_id,
                         " (person alice): role line_lead -> operator -> "
                         "viewer at scope site/sz/line/3"));
  EXPECT_EQ(BindingIdOf(inherited), lead_id);
  EXPECT_THAT(RolePathOf(inherited), ElementsAre("line_lead", "operator", "viewer"));

  struct Denial {
    std::string person, permission, scope;
    DecisionCode code;
    std::string reason;
  };
  const std::vector<Denial> denials = {
      {"zed", kView, "/", DecisionCode::kUnknownPerson, "denied: unknown person \"zed\""},
      {"a\nvery-long-person-id-beyond-the-short-string-buffer", kView, "/",
       DecisionCode::kUnknownPerson,
       "denied: unknown person "
       "\"a\\nvery-long-person-id-beyond-the-short-string-buffer\""},
      {std::string(150, 'x'), kView, "/", DecisionCode::kUnknownPerson,
       absl::StrCat("denied: unknown person \"", std::string(100, 'x'), "...\"")},
      {"bob", kView, "/", DecisionCode::kInactivePerson,
       "denied: person \"bob\" is not active (PERSON_STATUS_SUSPENDED)"},
      {"dave", kView, "/", DecisionCode::kInactivePerson,
       "denied: person \"dave\" is not active (PERSON_STATUS_LEFT)"},
      {"alice", "mes.work_order:delete", "/", DecisionCode::kUnknownPermission,
       "denied: unknown permission \"mes.work_order:delete\""},
      {"alice", kView, "site/bj", DecisionCode::kUnknownScope,
       "denied: unknown scope \"site/bj\""},
      {"alice", kView, "", DecisionCode::kUnknownScope, "denied: unknown scope \"\""},
      {"alice", kRelease, "site/sz", DecisionCode::kNoBinding,
       "denied: no role binding grants mes.work_order:release at site/sz"},
      {"alice", kRelease, "/", DecisionCode::kNoBinding,
       "denied: no role binding grants mes.work_order:release at /"},
      {"carol", kView, "site/sz/line/4", DecisionCode::kBindingExpired,
       absl::StrCat("denied: no role binding grants mes.work_order:view at "
                    "site/sz/line/4 (binding ",
                    expiring_id, " would, but expired at unix ", kStart + 60, ")")},
  };
  for (const Denial& c : denials) {
    Decision d = Check(c.person, c.permission, c.scope);
    EXPECT_FALSE(d.allowed) << c.reason;
    EXPECT_EQ(d.reason.code(), c.code) << c.reason;
    EXPECT_EQ(ReasonOf(d), c.reason);
    EXPECT_EQ(BindingIdOf(d), "");
    EXPECT_THAT(RolePathOf(d), IsEmpty());
  }
}

TEST_F(EngineTest, DefaultDecisionDeniesWithAnEmptyReason) {
  Decision d;
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason.code(), DecisionCode::kUndecided);
  EXPECT_EQ(d.reason.str(), "");
  EXPECT_EQ(d.binding_id(), "");
  EXPECT_THAT(d.role_path(), IsEmpty());
}

// A decision formats from the snapshot it was made on, not from what the
// engine holds when it is formatted; the engine's decisions keep that
// snapshot alive after writes replace it and this thread checks again.
TEST_F(EngineTest, DecisionTextOutlivesLaterWritesAndChecks) {
  const std::string id = Bind(PersonBinding("alice", "line_lead", "site/sz"));
  Decision allowed = Check("alice", kView, "site/sz");
  Decision denied = Check("alice", kFlash, "site/sz");
  const std::string allowed_text = allowed.reason.str();
  const std::string denied_text = denied.reason.str();

  ASSERT_TRUE(engine_->DeleteBinding(id).ok());
  iam::v1::Role viewer;
  viewer.set_name("viewer");
  viewer.add_permissions(kView);
  viewer.add_permissions(kFlash);
  ASSERT_TRUE(engine_->PutRole(viewer).ok());
  Bind(PersonBinding("alice", "viewer", "/"));
  // The thread's cached snapshot moves on, and the old ones are released
  // by everything but the decisions above.
  EXPECT_EQ(Check("alice", kFlash, "site/sz").reason.code(), DecisionCode::kAllowed);
  EXPECT_EQ(Check("alice", kView, "site/sz").binding_id(), Check("alice", kFlash, "/").binding_id());

  EXPECT_EQ(allowed.reason.str(), allowed_text);
  EXPECT_EQ(allowed.binding_id(), id);
  EXPECT_THAT(allowed.role_path(), ElementsAre("line_lead", "operator", "viewer"));
  EXPECT_EQ(denied.reason.str(), denied_text);
  EXPECT_EQ(denied.reason.code(), DecisionCode::kNoBinding);

  // A copy outlives the original, and a decision may be read on another
  // thread (and released there).
  Decision copy = allowed;
  allowed = Decision();
  std::string on_other_thread;
  std::thread([&, moved = std::move(copy)] { on_other_thread = moved.reason; }).join();
  EXPECT_EQ(on_other_thread, allowed_text);
}

// A snapshot's decisions refer into it: they read the same while it is held,
// whatever the engine publishes meanwhile.
TEST_F(EngineTest, SnapshotDecisionsReadFromTheirSnapshot) {
  const std::string id = Bind(PersonBinding("alice", "line_lead", "site/sz"));
  std::shared_ptr<const AuthzSnapshot> snap = engine_->snapshot();
  Decision d = snap->Check("alice", kView, "site/sz", clock_.Now());
  ASSERT_TRUE(engine_->DeleteBinding(id).ok());
  EXPECT_FALSE(Check("alice", kView, "site/sz").allowed);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.binding_id(), id);
  EXPECT_EQ(d.reason.str(),
            absl::StrCat("allowed by binding ", id,
                         " (person alice): role line_lead -> operator -> viewer "
                         "at scope site/sz"));
}

TEST_F(EngineTest, BindingCoversItsScopeAndBelowButNotAboveOrSideways) {
  Bind(PersonBinding("alice", "viewer", "site/sz/line/3"));
  EXPECT_TRUE(Check("alice", kView, "site/sz/line/3").allowed);
  EXPECT_TRUE(Check("alice", kView, "site/sz/line/3/station/7").allowed);
  EXPECT_FALSE(Check("alice", kView, "site/sz").allowed);
  EXPECT_FALSE(Check("alice", kView, "/").allowed);
  EXPECT_FALSE(Check("alice", kView, "site/sz/line/4").allowed);
}

TEST_F(EngineTest, ExpiredBindingGrantsNothingFromThatExactSecond) {
  const int64_t expires = kStart + 60;
  Bind(PersonBinding("alice", "viewer", "/", expires));
  clock_.Set(absl::FromUnixSeconds(expires) - absl::Nanoseconds(1));
  EXPECT_TRUE(Check("alice", kView, "/").allowed);
  clock_.Set(absl::FromUnixSeconds(expires));
  Decision d = Check("alice", kView, "/");
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reason.str(), HasSubstr("expired"));
  auto granted = engine_->snapshot()->ListPermissions("alice", "", clock_.Now());
  ASSERT_TRUE(granted.ok());
  EXPECT_THAT(*granted, IsEmpty());
}

TEST_F(EngineTest, GroupBindingsApplyToMembersOnly) {
  const std::string id =
      Bind(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "burner", "site/sz"));
  Decision d = Check("alice", kFlash, "site/sz/line/3");
  EXPECT_TRUE(d.allowed) << d.reason.str();
  EXPECT_EQ(d.binding_id(), id);
  EXPECT_THAT(d.reason.str(), HasSubstr("group burners"));
  EXPECT_FALSE(Check("carol", kFlash, "site/sz").allowed);

  // Leaving the group takes effect with the sync.
  ASSERT_TRUE(
      engine_->SyncSubjects({Subject("alice", iam::v1::PERSON_STATUS_ACTIVE)}).ok());
  EXPECT_FALSE(Check("alice", kFlash, "site/sz").allowed);
}

TEST_F(EngineTest, DeletingGroupBindingsRevokesFromMembers) {
  const std::string first =
      Bind(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "burner", "site/sz"));
  Bind(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "viewer", "/"));
  ASSERT_TRUE(Check("alice", kFlash, "site/sz").allowed);
  ASSERT_TRUE(engine_->DeleteBinding(first).ok());
  EXPECT_FALSE(Check("alice", kFlash, "site/sz").allowed);
  EXPECT_TRUE(Check("alice", kView, "site/sz").allowed);

  iam::v1::Subject burners;
  burners.set_kind(iam::v1::SUBJECT_KIND_GROUP);
  burners.set_id("burners");
  ASSERT_TRUE(engine_->DeleteBindingsOf(burners).ok());
  EXPECT_FALSE(Check("alice", kView, "site/sz").allowed);
  EXPECT_THAT(engine_->snapshot()->ListBindings(burners, "", "", "", 0), IsEmpty());

  // A group bound again works as before.
  Bind(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "burner", "/"));
  EXPECT_TRUE(Check("alice", kFlash, "site/sz/line/4").allowed);
}

TEST_F(EngineTest, SuspendingAPersonRevokesImmediately) {
  Bind(PersonBinding("alice", "viewer", "/"));
  ASSERT_TRUE(Check("alice", kView, "/").allowed);
  ASSERT_TRUE(engine_
                  ->SyncSubjects({Subject("alice", iam::v1::PERSON_STATUS_SUSPENDED,
                                          {"burners"})})
                  .ok());
  EXPECT_FALSE(Check("alice", kView, "/").allowed);
}

TEST_F(EngineTest, PutRoleRejectsCycleNamingThePathAndWritesNothing) {
  State before = Observe();
  iam::v1::Role viewer;
  viewer.set_name("viewer");
  viewer.add_permissions(kView);
  viewer.add_inherits("line_lead");
  auto s = engine_->PutRole(viewer);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(),
              HasSubstr("viewer -> line_lead -> operator -> viewer"));
  ExpectUnchanged(before);

  iam::v1::Role self;
  self.set_name("loop");
  self.add_inherits("loop");
  EXPECT_THAT(engine_->PutRole(self).status().message(), HasSubstr("loop -> loop"));
  ExpectUnchanged(before);
}

TEST_F(EngineTest, EveryBadInputLeavesRevisionAndStateUnchanged) {
  Bind(PersonBinding("alice", "viewer", "site/sz"));
  State before = Observe();
  auto expect_rejected = [&](absl::Status s, absl::StatusCode code,
                             const std::string& what) {
    EXPECT_EQ(s.code(), code) << what << ": " << s;
    EXPECT_FALSE(s.message().empty()) << what;
    ExpectUnchanged(before);
  };
  using C = absl::StatusCode;
  iam::v1::Permission bad_perm;
  bad_perm.set_name("Not A Name");
  expect_rejected(engine_->PutPermission(bad_perm).status(), C::kInvalidArgument,
                  "bad permission");
  expect_rejected(engine_->DeletePermission("x.y:z").status(), C::kNotFound,
                  "delete unknown permission");
  expect_rejected(engine_->DeletePermission(kView).status(),
                  C::kFailedPrecondition, "delete granted permission");

  iam::v1::Role role;
  role.set_name("new_role");
  role.add_permissions("x.y:missing");
  expect_rejected(engine_->PutRole(role).status(), C::kNotFound,
                  "role with undeclared permission");
  role.clear_permissions();
  role.add_inherits("ghost");
  expect_rejected(engine_->PutRole(role).status(), C::kNotFound,
                  "role inheriting undeclared role");
  role.clear_inherits();
  role.add_permissions(kView);
  role.add_permissions(kView);
  expect_rejected(engine_->PutRole(role).status(), C::kInvalidArgument,
                  "repeated permission");
  role.set_name("Bad Role");
  expect_rejected(engine_->PutRole(role).status(), C::kInvalidArgument,
                  "bad role name");
  expect_rejected(engine_->DeleteRole("operator").status(),
                  C::kFailedPrecondition, "delete inherited role");
  expect_rejected(engine_->DeleteRole("viewer").status(), C::kFailedPrecondition,
                  "delete inherited and bound role");
  expect_rejected(engine_->DeleteRole("nobody").status(), C::kNotFound,
                  "delete unknown role");

  iam::v1::Scope scope;
  scope.set_path("site/bj/line/1");
  expect_rejected(engine_->PutScope(scope).status(), C::kFailedPrecondition,
                  "scope without parent");
  scope.set_path("site/bj/line");
  expect_rejected(engine_->PutScope(scope).status(), C::kInvalidArgument,
                  "bad scope path");
  scope.set_path("/");
  expect_rejected(engine_->PutScope(scope).status(), C::kInvalidArgument,
                  "root scope");
  expect_rejected(engine_->DeleteScope("site/sz/line/3").status(),
                  C::kFailedPrecondition, "scope with children");
  expect_rejected(engine_->DeleteScope("site/sz").status(),
                  C::kFailedPrecondition, "scope with children and bindings");
  expect_rejected(engine_->DeleteScope("/").status(), C::kInvalidArgument,
                  "delete root");
  expect_rejected(engine_->DeleteScope("site/bj").status(), C::kNotFound,
                  "delete unknown scope");

  auto create = [&](iam::v1::RoleBinding b) {
    return engine_->CreateBindings({std::move(b)}, "admin").status();
  };
  iam::v1::RoleBinding b = PersonBinding("carol", "viewer", "/");
  b.clear_reason();
  expect_rejected(create(b), C::kInvalidArgument, "no reason");
  b.set_reason(std::string(501, 'r'));
  expect_rejected(create(b), C::kInvalidArgument, "long reason");
  expect_rejected(create(PersonBinding("carol", "nobody", "/")), C::kNotFound,
                  "unknown role");
  expect_rejected(create(PersonBinding("carol", "viewer", "site/bj")),
                  C::kNotFound, "unknown scope");
  expect_rejected(create(PersonBinding("carol", "viewer", "site/")),
                  C::kInvalidArgument, "bad scope");
  expect_rejected(create(PersonBinding("", "viewer", "/")), C::kInvalidArgument,
                  "no subject id");
  expect_rejected(create(PersonBinding(std::string(201, 'p'), "viewer", "/")),
                  C::kInvalidArgument, "long subject id");
  expect_rejected(
      create(Binding(iam::v1::SUBJECT_KIND_UNSPECIFIED, "carol", "viewer", "/")),
      C::kInvalidArgument, "no subject kind");
  expect_rejected(create(PersonBinding("carol", "viewer", "/", kStart)),
                  C::kInvalidArgument, "expires now");
  expect_rejected(create(PersonBinding("carol", "viewer", "/", kStart - 1)),
                  C::kInvalidArgument, "expired");
  expect_rejected(engine_->CreateBindings({}, "admin").status(),
                  C::kInvalidArgument, "empty batch");
  // All or nothing: one bad binding in a batch rejects the batch.
  expect_rejected(
      engine_
          ->CreateBindings({PersonBinding("carol", "viewer", "/"),
                            PersonBinding("carol", "nobody", "/")},
                           "admin")
          .status(),
      C::kNotFound, "batch with one bad binding");
  expect_rejected(engine_->DeleteBinding("rb-nope").status(), C::kNotFound,
                  "delete unknown binding");
  expect_rejected(engine_->DeleteBindingsOf(iam::v1::Subject()).status(),
                  C::kInvalidArgument, "delete bindings of nobody");

  expect_rejected(engine_->SyncSubjects({}).status(), C::kInvalidArgument,
                  "empty sync");
  expect_rejected(
      engine_->SyncSubjects({Subject("x", iam::v1::PERSON_STATUS_UNSPECIFIED)})
          .status(),
      C::kInvalidArgument, "unspecified status");
  std::vector<std::string> groups(101, "g");
  for (int i = 0; i < 101; ++i) groups[i] += std::to_string(i);
  expect_rejected(
      engine_->SyncSubjects({Subject("x", iam::v1::PERSON_STATUS_ACTIVE, groups)})
          .status(),
      C::kInvalidArgument, "too many groups");
  expect_rejected(
      engine_->SyncSubjects({Subject("x", iam::v1::PERSON_STATUS_ACTIVE),
                             Subject("", iam::v1::PERSON_STATUS_ACTIVE)})
          .status(),
      C::kInvalidArgument, "one bad subject in a batch");

  iam::v1::PolicyDocument bad = ParseDoc(kPolicy);
  bad.mutable_roles(0)->add_inherits("line_lead");
  auto applied = engine_->ApplyPolicy(bad, false);
  expect_rejected(applied.status(), C::kInvalidArgument, "policy with cycle");
  EXPECT_THAT(applied.status().message(), HasSubstr("->"));
}

TEST_F(EngineTest, FailingStoreChangesNothing) {
  const std::string id = Bind(PersonBinding("alice", "viewer", "site/sz"));
  State before = Observe();
  auto expect_failed = [&](absl::Status s, const std::string& what) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << what << ": " << s;
    ExpectUnchanged(before);
  };
  iam::v1::Permission p;
  p.set_name("x.y:z");
  store_.FailNextWrites(1);
  expect_failed(engine_->PutPermission(p).status(), "put permission");
  iam::v1::Scope scope;
  scope.set_path("site/bj");
  store_.FailNextWrites(1);
  expect_failed(engine_->PutScope(scope).status(), "put scope");
  store_.FailNextWrites(1);
  expect_failed(
      engine_->CreateBindings({PersonBinding("carol", "viewer", "/")}, "admin")
          .status(),
      "create binding");
  store_.FailNextWrites(1);
  expect_failed(engine_->DeleteBinding(id).status(), "delete binding");
  store_.FailNextWrites(1);
  expect_failed(engine_->SyncSubjects({Subject("carol", iam::v1::PERSON_STATUS_LEFT)})
                    .status(),
                "sync");
  iam::v1::PolicyDocument doc = ParseDoc(kPolicy);
  doc.add_permissions()->set_name("x.y:z");
  store_.FailNextWrites(1);
  expect_failed(engine_->ApplyPolicy(doc, false).status(), "apply policy");

  EXPECT_TRUE(Check("alice", kView, "site/sz").allowed);
  EXPECT_TRUE(engine_->snapshot()->HasSubject("carol"));
  EXPECT_FALSE(Check("carol", kView, "/").allowed);
  // The failed create used no id: the next one is the one it would have had.
  const std::string next = Bind(PersonBinding("carol", "viewer", "/"));
  EXPECT_GT(next, id);
}

TEST_F(EngineTest, ReopenRestoresState) {
  const std::string keep = Bind(PersonBinding("alice", "line_lead", "site/sz", kStart + 3600));
  Bind(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "burner", "/"));
  const std::string last = Bind(PersonBinding("carol", "viewer", "/"));
  ASSERT_TRUE(engine_->DeleteBinding(last).ok());
  State before = Observe();
  Decision allowed = Check("alice", kView, "site/sz/line/3");

  engine_ = Open();
  State after = Observe();
  EXPECT_EQ(after.revision, before.revision);
  EXPECT_TRUE(Same(after.policy, before.policy));
  ASSERT_EQ(after.bindings.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(Same(after.bindings[i], before.bindings[i]));
  }
  Decision again = Check("alice", kView, "site/sz/line/3");
  EXPECT_TRUE(again.allowed);
  EXPECT_EQ(again.binding_id(), allowed.binding_id());
  EXPECT_EQ(again.role_path(), allowed.role_path());
  EXPECT_TRUE(Check("alice", kFlash, "site/sz").allowed);
  EXPECT_FALSE(Check("bob", kView, "/").allowed);
  // Ids are never reused, not even the deleted last one.
  const std::string fresh = Bind(PersonBinding("carol", "viewer", "/"));
  EXPECT_GT(fresh, last);
}

TEST_F(EngineTest, CheckStartedAfterDeleteBindingReturnsNeverAllows) {
  constexpr int kPeople = 300;
  std::vector<iam::v1::SyncSubjectRequest> people;
  std::vector<iam::v1::RoleBinding> bindings;
  for (int i = 0; i < kPeople; ++i) {
    const std::string id = absl::StrCat("p", i);
    people.push_back(Subject(id, iam::v1::PERSON_STATUS_ACTIVE));
    bindings.push_back(PersonBinding(id, "line_lead", "site/sz"));
  }
  ASSERT_TRUE(engine_->SyncSubjects(people).ok());
  auto created = engine_->CreateBindings(bindings, "admin");
  ASSERT_TRUE(created.ok());

  std::atomic<int> revoked{0};  // people [0, revoked) have lost their binding
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::atomic<int64_t> checks{0};
  constexpr int kCheckers = 4;
  absl::BlockingCounter started(kCheckers);
  std::vector<std::thread> checkers;
  for (int t = 0; t < kCheckers; ++t) {
    checkers.emplace_back([&, t] {
      int i = t;
      started.DecrementCount();
      while (!done.load(std::memory_order_acquire)) {
        const int r = revoked.load(std::memory_order_acquire);
        if (r > 0) {
          const int who = i++ % r;
          Decision d = engine_->Check(absl::StrCat("p", who), kView,
                                      "site/sz/line/3/station/7");
          if (d.allowed) violations.fetch_add(1);
          checks.fetch_add(1);
        }
        // Someone not yet revoked: exercises the allow path concurrently.
        engine_->Check(absl::StrCat("p", kPeople - 1), kView, "site/sz");
      }
    });
  }
  started.Wait();
  for (int i = 0; i < kPeople - 1; ++i) {
    ASSERT_TRUE(engine_->DeleteBinding(created->first[i].id()).ok());
    revoked.store(i + 1, std::memory_order_release);
    if (i % 10 == 0) {
      // Let the checkers catch up, so checks interleave with the deletions
      // even on a loaded machine.
      const int64_t seen = checks.load();
      while (checks.load() < seen + kCheckers) std::this_thread::yield();
    }
  }
  done.store(true, std::memory_order_release);
  for (auto& t : checkers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(checks.load(), (kPeople - 1) / 10 * kCheckers);
  for (int i = 0; i < kPeople - 1; ++i) {
    EXPECT_FALSE(Check(absl::StrCat("p", i), kView, "site/sz").allowed);
  }
  EXPECT_TRUE(Check(absl::StrCat("p", kPeople - 1), kView, "site/sz").allowed);
}

TEST_F(EngineTest, ApplyPolicyReturnsDiffAndDryRunWritesNothing) {
  iam::v1::PolicyDocument doc = ParseDoc(kPolicy);
  doc.add_permissions()->set_name("mes.work_order:close");
  doc.mutable_roles(2)->add_permissions("mes.work_order:close");  // line_lead
  doc.mutable_roles(3)->set_description("flashes firmware");       // burner
  doc.mutable_scopes()->RemoveLast();                              // line/4
  State before = Observe();

  auto dry = engine_->ApplyPolicy(doc, true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->revision, 0);
  ExpectUnchanged(before);
  ASSERT_THAT(dry->changes, SizeIs(4));
  auto expect_change = [](const iam::v1::PolicyChange& c,
                          iam::v1::PolicyChange::Kind kind,
                          const std::string& type, const std::string& name,
                          const std::string& detail) {
    EXPECT_EQ(c.kind(), kind) << c.ShortDebugString();
    EXPECT_EQ(c.object_type(), type) << c.ShortDebugString();
    EXPECT_EQ(c.name(), name) << c.ShortDebugString();
    EXPECT_THAT(c.detail(), HasSubstr(detail)) << c.ShortDebugString();
  };
  expect_change(dry->changes[0], iam::v1::PolicyChange::KIND_ADD, "permission",
                "mes.work_order:close", "");
  expect_change(dry->changes[1], iam::v1::PolicyChange::KIND_CHANGE, "role",
                "burner", "flashes firmware");
  expect_change(dry->changes[2], iam::v1::PolicyChange::KIND_CHANGE, "role",
                "line_lead", "+permission mes.work_order:close");
  expect_change(dry->changes[3], iam::v1::PolicyChange::KIND_REMOVE, "scope",
                "site/sz/line/4", "");

  auto applied = engine_->ApplyPolicy(doc, false);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->revision, store_.CurrentRevision());
  EXPECT_EQ(engine_->snapshot()->revision(), applied->revision);
  EXPECT_EQ(applied->changes.size(), 4u);
  iam::v1::PolicyDocument now = engine_->snapshot()->Policy();
  EXPECT_EQ(now.permissions_size(), 4);
  EXPECT_EQ(now.scopes_size(), 3);

  Bind(PersonBinding("alice", "line_lead", "site/sz"));
  EXPECT_TRUE(Check("alice", "mes.work_order:close", "site/sz").allowed);

  // A change in any field shows in the diff and is written.
  iam::v1::PolicyDocument audited = doc;
  audited.mutable_permissions(0)->set_audit_mode(iam::v1::AUDIT_MODE_SYNC);
  auto mode = engine_->ApplyPolicy(audited, false);
  ASSERT_TRUE(mode.ok()) << mode.status();
  ASSERT_THAT(mode->changes, SizeIs(1));
  expect_change(mode->changes[0], iam::v1::PolicyChange::KIND_CHANGE,
                "permission", kView, "audit_mode AUDIT_MODE_UNSPECIFIED -> AUDIT_MODE_SYNC");
  doc = audited;

  // The same policy again: no change, nothing written.
  State steady = Observe();
  auto again = engine_->ApplyPolicy(doc, false);
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(again->changes, IsEmpty());
  EXPECT_EQ(again->revision, 0);
  ExpectUnchanged(steady);

  // Removing a bound role is refused, also on a dry run.
  iam::v1::PolicyDocument no_lead = doc;
  no_lead.mutable_roles()->DeleteSubrange(2, 1);
  for (bool dry_run : {true, false}) {
    auto refused = engine_->ApplyPolicy(no_lead, dry_run);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(refused.status().message(), HasSubstr("rb-"));
    ExpectUnchanged(steady);
  }
}

TEST_F(EngineTest, PolicyEditsThroughSingleWrites) {
  iam::v1::Permission p;
  p.set_name("mes.work_order:close");
  ASSERT_TRUE(engine_->PutPermission(p).ok());
  iam::v1::Role closer;
  closer.set_name("closer");
  closer.add_permissions(p.name());
  closer.add_inherits("viewer");
  ASSERT_TRUE(engine_->PutRole(closer).ok());
  iam::v1::Scope s;
  s.set_path("site/sz/line/5");
  ASSERT_TRUE(engine_->PutScope(s).ok());
  const std::string id = Bind(PersonBinding("carol", "closer", "site/sz/line/5"));
  Decision d = Check("carol", kView, "site/sz/line/5");
  EXPECT_TRUE(d.allowed);
  EXPECT_THAT(d.role_path(), ElementsAre("closer", "viewer"));

  // Changing a role changes what its bindings grant, at once.
  closer.clear_inherits();
  ASSERT_TRUE(engine_->PutRole(closer).ok());
  EXPECT_FALSE(Check("carol", kView, "site/sz/line/5").allowed);
  EXPECT_TRUE(Check("carol", p.name(), "site/sz/line/5").allowed);

  EXPECT_EQ(engine_->DeleteRole("closer").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->DeleteScope("site/sz/line/5").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(engine_->DeleteBinding(id).ok());
  ASSERT_TRUE(engine_->DeleteRole("closer").ok());
  ASSERT_TRUE(engine_->DeleteScope("site/sz/line/5").ok());
  ASSERT_TRUE(engine_->DeletePermission(p.name()).ok());
  EXPECT_THAT(Check("carol", p.name(), "/").reason.str(), HasSubstr("unknown permission"));

  // Declared again after deletion: works as new.
  ASSERT_TRUE(engine_->PutPermission(p).ok());
  ASSERT_TRUE(engine_->PutRole(closer).ok());
  Bind(PersonBinding("carol", "closer", "/"));
  EXPECT_TRUE(Check("carol", p.name(), "site/sz").allowed);
}

TEST_F(EngineTest, ListPermissionsShowsWhereEachComesFrom) {
  const std::string lead = Bind(PersonBinding("alice", "line_lead", "site/sz/line/3"));
  const std::string burn =
      Bind(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "burner", "/"));
  auto snap = engine_->snapshot();
  auto all = snap->ListPermissions("alice", "", clock_.Now());
  ASSERT_TRUE(all.ok());
  ASSERT_THAT(*all, SizeIs(3));
  EXPECT_EQ((*all)[0].permission(), kFlash);
  EXPECT_EQ((*all)[0].binding_id(), burn);
  EXPECT_EQ((*all)[1].permission(), kRelease);
  EXPECT_EQ((*all)[2].permission(), kView);
  EXPECT_EQ((*all)[2].scope(), "site/sz/line/3");
  EXPECT_EQ((*all)[2].binding_id(), lead);
  EXPECT_THAT((*all)[2].role_path(), ElementsAre("line_lead", "operator", "viewer"));

  auto at_sz = snap->ListPermissions("alice", "site/sz", clock_.Now());
  ASSERT_TRUE(at_sz.ok());
  ASSERT_THAT(*at_sz, SizeIs(1));  // only the group's "/" binding reaches up here
  EXPECT_EQ((*at_sz)[0].permission(), kFlash);

  EXPECT_EQ(snap->ListPermissions("nobody", "", clock_.Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(snap->ListPermissions("alice", "site/bj", clock_.Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(snap->ListPermissions("alice", "bad", clock_.Now()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, WhoCanListsActivePeopleSorted) {
  ASSERT_TRUE(engine_
                  ->SyncSubjects({Subject("zoe", iam::v1::PERSON_STATUS_ACTIVE, {"burners"}),
                                  Subject("bob", iam::v1::PERSON_STATUS_SUSPENDED,
                                          {"burners"})})
                  .ok());
  Bind(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "burner", "site/sz"));
  Bind(PersonBinding("carol", "burner", "site/sz/line/3"));
  Bind(PersonBinding("dave", "burner", "/"));  // left
  auto snap = engine_->snapshot();
  auto line3 = snap->WhoCan(kFlash, "site/sz/line/3", clock_.Now());
  ASSERT_TRUE(line3.ok());
  EXPECT_THAT(*line3, ElementsAre("alice", "carol", "zoe"));
  auto line4 = snap->WhoCan(kFlash, "site/sz/line/4", clock_.Now());
  ASSERT_TRUE(line4.ok());
  EXPECT_THAT(*line4, ElementsAre("alice", "zoe"));
  auto root = snap->WhoCan(kFlash, "/", clock_.Now());
  ASSERT_TRUE(root.ok());
  EXPECT_THAT(*root, IsEmpty());
  EXPECT_EQ(snap->WhoCan("x.y:z", "/", clock_.Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(snap->WhoCan(kFlash, "site/bj", clock_.Now()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EngineTest, ListBindingsFiltersAndPages) {
  std::vector<iam::v1::RoleBinding> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(PersonBinding("alice", "viewer", "/"));
  for (int i = 0; i < 3; ++i) batch.push_back(PersonBinding("carol", "burner", "site/sz"));
  batch.push_back(Binding(iam::v1::SUBJECT_KIND_GROUP, "burners", "burner", "site/sz"));
  ASSERT_TRUE(engine_->CreateBindings(batch, "admin").ok());
  auto snap = engine_->snapshot();

  std::vector<std::string> ids;
  std::string after;
  while (true) {
    auto page = snap->ListBindings({}, "", "", after, 2);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 2u);
    for (const auto& b : page) ids.push_back(b.id());
    after = page.back().id();
  }
  ASSERT_THAT(ids, SizeIs(9));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

  iam::v1::Subject carol;
  carol.set_kind(iam::v1::SUBJECT_KIND_PERSON);
  carol.set_id("carol");
  EXPECT_THAT(snap->ListBindings(carol, "", "", "", 0), SizeIs(3));
  EXPECT_THAT(snap->ListBindings(carol, "", "", ids[5], 0), SizeIs(2));
  EXPECT_THAT(snap->ListBindings({}, "burner", "", "", 0), SizeIs(4));
  EXPECT_THAT(snap->ListBindings({}, "burner", "site/sz", "", 0), SizeIs(4));
  EXPECT_THAT(snap->ListBindings({}, "", "/", "", 0), SizeIs(5));
  iam::v1::Subject groups;
  groups.set_kind(iam::v1::SUBJECT_KIND_GROUP);
  EXPECT_THAT(snap->ListBindings(groups, "", "", "", 0), SizeIs(1));
}

TEST_F(EngineTest, DeleteBindingsOfRemovesAllOfThemAndToleratesNone) {
  Bind(PersonBinding("alice", "viewer", "/"));
  Bind(PersonBinding("alice", "burner", "site/sz"));
  Bind(PersonBinding("carol", "viewer", "/"));
  iam::v1::Subject alice;
  alice.set_kind(iam::v1::SUBJECT_KIND_PERSON);
  alice.set_id("alice");
  auto deleted = engine_->DeleteBindingsOf(alice);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, store_.CurrentRevision());
  EXPECT_FALSE(Check("alice", kView, "/").allowed);
  EXPECT_TRUE(Check("carol", kView, "/").allowed);
  EXPECT_THAT(engine_->snapshot()->ListBindings(alice, "", "", "", 0), IsEmpty());

  State before = Observe();
  auto none = engine_->DeleteBindingsOf(alice);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, before.revision);
  ExpectUnchanged(before);
}

TEST_F(EngineTest, SnapshotKeepsAnsweringAtItsRevision) {
  Bind(PersonBinding("alice", "viewer", "/"));
  auto old = engine_->snapshot();
  ASSERT_TRUE(engine_->DeleteBindingsOf([] {
                       iam::v1::Subject s;
                       s.set_kind(iam::v1::SUBJECT_KIND_PERSON);
                       s.set_id("alice");
                       return s;
                     }())
                  .ok());
  EXPECT_TRUE(old->Check("alice", kView, "/", clock_.Now()).allowed);
  EXPECT_FALSE(Check("alice", kView, "/").allowed);
  EXPECT_LT(old->revision(), engine_->snapshot()->revision());
}

TEST(EngineOpenTest, RefusesACorruptRecord) {
  MemoryStore store;
  WriteBatch batch;
  batch.Put(kAuthzColumn, "role/x", "\xff\xff not a proto");
  ASSERT_TRUE(store.Commit(batch).ok());
  FakeClock clock(absl::FromUnixSeconds(kStart));
  auto engine = AuthzEngine::Open(&store, &clock);
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kDataLoss);
}

TEST(EngineOpenTest, EmptyStoreOpensAndDeniesEverything) {
  MemoryStore store;
  FakeClock clock(absl::FromUnixSeconds(kStart));
  auto engine = AuthzEngine::Open(&store, &clock);
  ASSERT_TRUE(engine.ok());
  Decision d = (*engine)->Check("alice", kView, "/");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.revision, 0);
  EXPECT_EQ((*engine)->snapshot()->Policy().ByteSizeLong(), 0u);
}

}  // namespace
}  // namespace iam::authz
