#include "services/identity/person_registry.h"

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::identity {
namespace {

using iam::v1::ListPeopleRequest;
using iam::v1::Person;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kStartUnix = 1700000000;

Person MakePerson(absl::string_view id) {
  Person person;
  person.set_id(std::string(id));
  person.set_display_name(absl::StrCat("Person ", id));
  person.set_org_unit("ou/production/smt");
  person.set_job_code("LINE_OPERATOR");
  person.set_site("sz");
  return person;
}

std::vector<std::string> Ids(const std::vector<Person>& people) {
  std::vector<std::string> ids;
  for (const Person& p : people) ids.push_back(p.id());
  return ids;
}

class PersonRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { registry_ = OpenRegistry(); }

  std::unique_ptr<PersonRegistry> OpenRegistry() {
    auto registry = PersonRegistry::Open(&store_, &clock_);
    EXPECT_TRUE(registry.ok()) << registry.status();
    return registry.ok() ? std::move(*registry) : nullptr;
  }

  Person MustCreate(Person person) {
    auto created = registry_->Create(std::move(person));
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->first : Person();
  }

  void MustSetManager(absl::string_view id, absl::string_view manager_id) {
    Person change;
    change.set_id(std::string(id));
    change.set_manager_id(std::string(manager_id));
    auto updated = registry_->Update(change, {"manager_id"});
    ASSERT_TRUE(updated.ok()) << updated.status();
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(kStartUnix)};
  std::unique_ptr<PersonRegistry> registry_;
};

TEST_F(PersonRegistryTest, CreateStoresPersonAtItsRevision) {
  Person input = MakePerson("p-1");
  input.set_revision(77);
  input.add_attestations()->set_type(
      iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED);
  input.add_groups("smt-operators");

  auto created = registry_->Create(input);
  ASSERT_TRUE(created.ok()) << created.status();
  const auto& [person, revision] = *created;
  EXPECT_EQ(revision, store_.CurrentRevision());
  EXPECT_EQ(person.revision(), revision);
  EXPECT_EQ(person.status(), iam::v1::PERSON_STATUS_PENDING);
  EXPECT_EQ(person.attestations_size(), 0);
  EXPECT_THAT(person.groups(), ElementsAre("smt-operators"));

  auto got = registry_->Get("p-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), person.SerializeAsString());
}

TEST_F(PersonRegistryTest, CreateKeepsAnExplicitStatus) {
  Person input = MakePerson("p-1");
  input.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  EXPECT_EQ(MustCreate(input).status(), iam::v1::PERSON_STATUS_ACTIVE);
}

TEST_F(PersonRegistryTest, CreateRejectsDuplicateId) {
  MustCreate(MakePerson("p-1"));
  const Revision before = store_.CurrentRevision();
  Person again = MakePerson("p-1");
  again.set_display_name("Someone Else");
  auto created = registry_->Create(again);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_.CurrentRevision(), before);
  EXPECT_EQ(registry_->Get("p-1")->display_name(), "Person p-1");
}

struct BadPersonCase {
  std::string name;
  std::function<void(Person*)> mutate;
  absl::StatusCode code;
  std::string message;
};

TEST_F(PersonRegistryTest, CreateRejectsEachInvalidFieldAndWritesNothing) {
  MustCreate(MakePerson("boss"));
  Person left = MakePerson("gone");
  left.set_status(iam::v1::PERSON_STATUS_LEFT);
  MustCreate(left);

  const std::vector<BadPersonCase> cases = {
      {"empty id", [](Person* p) { p->set_id(""); },
       absl::StatusCode::kInvalidArgument, "id is required"},
      {"long id", [](Person* p) { p->set_id(std::string(65, 'a')); },
       absl::StatusCode::kInvalidArgument, "at most 64"},
      {"id with space", [](Person* p) { p->set_id("p 1"); },
       absl::StatusCode::kInvalidArgument, "only letters, digits"},
      {"id with slash", [](Person* p) { p->set_id("p/1"); },
       absl::StatusCode::kInvalidArgument, "only letters, digits"},
      {"empty display_name", [](Person* p) { p->set_display_name(""); },
       absl::StatusCode::kInvalidArgument, "display_name is required"},
      {"blank display_name", [](Person* p) { p->set_display_name("   "); },
       absl::StatusCode::kInvalidArgument, "blank"},
      {"long display_name",
       [](Person* p) { p->set_display_name(std::string(201, 'x')); },
       absl::StatusCode::kInvalidArgument, "at most 200 characters (got 201)"},
      {"display_name with newline",
       [](Person* p) { p->set_display_name("Ann\nBob"); },
       absl::StatusCode::kInvalidArgument, "U+000A"},
      {"display_name with bidi override",
       [](Person* p) { p->set_display_name("Ann \u202E"); },
       absl::StatusCode::kInvalidArgument, "U+202E"},
      {"display_name not UTF-8",
       [](Person* p) { p->set_display_name("Ann \xC3("); },
       absl::StatusCode::kInvalidArgument, "not valid UTF-8"},
      {"display_name overlong UTF-8",
       [](Person* p) { p->set_display_name("\xC0\xAF"); },
       absl::StatusCode::kInvalidArgument, "not valid UTF-8"},
      {"long org_unit",
       [](Person* p) { p->set_org_unit(std::string(101, 'o')); },
       absl::StatusCode::kInvalidArgument, "org_unit must be at most 100"},
      {"org_unit not ASCII", [](Person* p) { p->set_org_unit("ou/\xC3\xA9"); },
       absl::StatusCode::kInvalidArgument, "org_unit must be printable ASCII"},
      {"missing job_code", [](Person* p) { p->set_job_code(""); },
       absl::StatusCode::kInvalidArgument, "job_code is required"},
      {"job_code with space", [](Person* p) { p->set_job_code("LINE OP"); },
       absl::StatusCode::kInvalidArgument, "job_code must not contain spaces"},
      {"job_code with tab", [](Person* p) { p->set_job_code("LINE\tOP"); },
       absl::StatusCode::kInvalidArgument, "job_code must be printable ASCII"},
      {"missing site", [](Person* p) { p->set_site(""); },
       absl::StatusCode::kInvalidArgument, "site is required"},
      {"long site", [](Person* p) { p->set_site(std::string(101, 's')); },
       absl::StatusCode::kInvalidArgument, "site must be at most 100"},
      {"malformed manager_id", [](Person* p) { p->set_manager_id("b o s s"); },
       absl::StatusCode::kInvalidArgument, "manager_id"},
      {"own manager", [](Person* p) { p->set_manager_id(p->id()); },
       absl::StatusCode::kInvalidArgument, "own manager"},
      {"unknown manager", [](Person* p) { p->set_manager_id("nobody"); },
       absl::StatusCode::kFailedPrecondition, "not a known person"},
      {"departed manager", [](Person* p) { p->set_manager_id("gone"); },
       absl::StatusCode::kFailedPrecondition, "has left"},
      {"unknown status",
       [](Person* p) { p->set_status(static_cast<iam::v1::PersonStatus>(99)); },
       absl::StatusCode::kInvalidArgument, "not a known PersonStatus"},
      {"too many groups",
       [](Person* p) {
         for (int i = 0; i < 101; ++i) p->add_groups(absl::StrCat("g", i));
       },
       absl::StatusCode::kInvalidArgument, "at most 100 groups"},
      {"bad group name", [](Person* p) { p->add_groups("smt operators"); },
       absl::StatusCode::kInvalidArgument, "groups[0]"},
      {"duplicate group",
       [](Person* p) {
         p->add_groups("smt");
         p->add_groups("smt");
       },
       absl::StatusCode::kInvalidArgument, "more than once"},
  };
  for (const BadPersonCase& c : cases) {
    SCOPED_TRACE(c.name);
    Person person = MakePerson("p-new");
    c.mutate(&person);
    const Revision before = store_.CurrentRevision();
    auto created = registry_->Create(person);
    EXPECT_EQ(created.status().code(), c.code) << created.status();
    EXPECT_THAT(std::string(created.status().message()), HasSubstr(c.message));
    EXPECT_EQ(store_.CurrentRevision(), before);
    EXPECT_THAT(Ids(registry_->All()), ElementsAre("boss", "gone"));
  }
}

TEST_F(PersonRegistryTest, CreateAcceptsBoundaryValues) {
  Person person = MakePerson(std::string(64, 'a'));
  // 200 characters, most of them two bytes long.
  std::string name;
  for (int i = 0; i < 200; ++i) name += "\xC3\xA9";
  person.set_display_name(name);
  person.set_org_unit(std::string(100, 'o'));
  person.set_job_code(std::string(100, 'J'));
  person.set_site(std::string(100, 's'));
  for (int i = 0; i < 100; ++i)
    person.add_groups(absl::StrCat("g.", i, ":x-y_z"));
  auto created = registry_->Create(person);
  EXPECT_TRUE(created.ok()) << created.status();
}

TEST_F(PersonRegistryTest, FailedCommitChangesNothing) {
  MustCreate(MakePerson("p-1"));
  const Revision before = store_.CurrentRevision();

  store_.FailNextWrites(1);
  EXPECT_EQ(registry_->Create(MakePerson("p-2")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry_->Get("p-2").status().code(), absl::StatusCode::kNotFound);

  store_.FailNextWrites(1);
  Person change = MakePerson("p-1");
  change.set_display_name("Renamed");
  change.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  EXPECT_EQ(registry_->Update(change, {}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry_->Get("p-1")->display_name(), "Person p-1");

  store_.FailNextWrites(1);
  EXPECT_EQ(registry_
                ->RecordAttestation(
                    "p-1", iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED,
                    "admin")
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry_->Get("p-1")->attestations_size(), 0);
  EXPECT_EQ(store_.CurrentRevision(), before);

  // A reopened registry agrees: nothing reached the store.
  auto reopened = OpenRegistry();
  EXPECT_THAT(Ids(reopened->All()), ElementsAre("p-1"));
  EXPECT_EQ(reopened->Get("p-1")->display_name(), "Person p-1");
}

TEST_F(PersonRegistryTest, UpdateChangesOnlyMaskedFields) {
  Person original = MakePerson("p-1");
  original.add_groups("a");
  MustCreate(original);

  Person change;
  change.set_id("p-1");
  change.set_display_name("New Name");
  change.set_site("");  // not in the mask: ignored, not validated
  change.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  auto updated = registry_->Update(change, {"display_name", "status"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->first.display_name(), "New Name");
  EXPECT_EQ(updated->first.status(), iam::v1::PERSON_STATUS_ACTIVE);
  EXPECT_EQ(updated->first.site(), "sz");
  EXPECT_EQ(updated->first.job_code(), "LINE_OPERATOR");
  EXPECT_THAT(updated->first.groups(), ElementsAre("a"));
  EXPECT_EQ(updated->second, store_.CurrentRevision());
  EXPECT_EQ(updated->first.revision(), updated->second);
}

TEST_F(PersonRegistryTest, EmptyMaskReplacesEveryField) {
  MustCreate(MakePerson("boss"));
  Person original = MakePerson("p-1");
  original.add_groups("a");
  MustCreate(original);
  ASSERT_TRUE(
      registry_
          ->RecordAttestation(
              "p-1", iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED, "hr")
          .ok());

  Person next;
  next.set_id("p-1");
  next.set_display_name("Moved");
  next.set_job_code("WAREHOUSE_CLERK");
  next.set_site("hk");
  next.set_manager_id("boss");
  next.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  auto updated = registry_->Update(next, {});
  ASSERT_TRUE(updated.ok()) << updated.status();
  const Person& person = updated->first;
  EXPECT_EQ(person.display_name(), "Moved");
  EXPECT_EQ(person.org_unit(), "");
  EXPECT_EQ(person.job_code(), "WAREHOUSE_CLERK");
  EXPECT_EQ(person.site(), "hk");
  EXPECT_EQ(person.manager_id(), "boss");
  EXPECT_EQ(person.groups_size(), 0);
  // Attestations are not part of an update.
  EXPECT_EQ(person.attestations_size(), 1);
}

TEST_F(PersonRegistryTest, UpdateErrorsWriteNothing) {
  MustCreate(MakePerson("p-1"));
  const Person before_person = *registry_->Get("p-1");
  const Revision before = store_.CurrentRevision();

  struct Case {
    std::string name;
    Person person;
    std::vector<std::string> mask;
    absl::StatusCode code;
    std::string message;
  };
  Person renamed = MakePerson("p-1");
  renamed.set_display_name("Renamed");
  Person unknown = MakePerson("nobody");
  unknown.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  Person full_without_status = MakePerson("p-1");
  Person no_status = MakePerson("p-1");
  Person bad_site = MakePerson("p-1");
  bad_site.set_site("s z");
  Person self_managed = MakePerson("p-1");
  self_managed.set_manager_id("p-1");
  Person bad_id = MakePerson("p 1");
  const std::vector<Case> cases = {
      {"unknown mask path",
       renamed,
       {"display_name", "email"},
       absl::StatusCode::kInvalidArgument,
       "unknown update_mask path \"email\""},
      {"attestations are not maskable",
       renamed,
       {"attestations"},
       absl::StatusCode::kInvalidArgument,
       "unknown update_mask path"},
      {"unknown person", unknown, {}, absl::StatusCode::kNotFound, "nobody"},
      {"malformed id", bad_id, {}, absl::StatusCode::kInvalidArgument, "id"},
      {"status left unspecified",
       no_status,
       {"status"},
       absl::StatusCode::kInvalidArgument,
       "status must be set"},
      {"full update without status",
       full_without_status,
       {},
       absl::StatusCode::kInvalidArgument,
       "status must be set"},
      {"invalid site",
       bad_site,
       {"site"},
       absl::StatusCode::kInvalidArgument,
       "site must not contain spaces"},
      {"own manager",
       self_managed,
       {"manager_id"},
       absl::StatusCode::kInvalidArgument,
       "own manager"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto updated = registry_->Update(c.person, c.mask);
    EXPECT_EQ(updated.status().code(), c.code) << updated.status();
    EXPECT_THAT(std::string(updated.status().message()), HasSubstr(c.message));
    EXPECT_EQ(store_.CurrentRevision(), before);
    EXPECT_EQ(registry_->Get("p-1")->SerializeAsString(),
              before_person.SerializeAsString());
  }
}

TEST_F(PersonRegistryTest, LeftIsFinal) {
  MustCreate(MakePerson("p-1"));
  Person leave;
  leave.set_id("p-1");
  leave.set_status(iam::v1::PERSON_STATUS_LEFT);
  auto left = registry_->Update(leave, {"status"});
  ASSERT_TRUE(left.ok()) << left.status();
  const Revision before = store_.CurrentRevision();

  Person back;
  back.set_id("p-1");
  back.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  auto rehired = registry_->Update(back, {"status"});
  EXPECT_EQ(rehired.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(rehired.status().message()), HasSubstr("has left"));

  Person renamed = *registry_->Get("p-1");
  renamed.set_display_name("Renamed");
  EXPECT_EQ(registry_->Update(renamed, {"display_name"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Even repeating the leave is a change to someone who left.
  EXPECT_EQ(registry_->Update(leave, {"status"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_
                ->RecordAttestation(
                    "p-1", iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED,
                    "admin")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(store_.CurrentRevision(), before);
  EXPECT_EQ(registry_->Get("p-1")->status(), iam::v1::PERSON_STATUS_LEFT);
}

TEST_F(PersonRegistryTest, RejectsManagerCycleAndNamesIt) {
  MustCreate(MakePerson("a"));
  MustCreate(MakePerson("b"));
  MustCreate(MakePerson("c"));
  MustSetManager("b", "a");  // a manages b
  MustSetManager("c", "b");  // b manages c
  const Revision before = store_.CurrentRevision();

  Person change;
  change.set_id("a");
  change.set_manager_id("b");
  auto direct = registry_->Update(change, {"manager_id"});
  EXPECT_EQ(direct.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(direct.status().message()), HasSubstr("a -> b -> a"));

  change.set_manager_id("c");
  auto indirect = registry_->Update(change, {"manager_id"});
  EXPECT_EQ(indirect.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(indirect.status().message()),
              HasSubstr("a -> c -> b -> a"));

  EXPECT_EQ(store_.CurrentRevision(), before);
  EXPECT_EQ(registry_->Get("a")->manager_id(), "");

  // Moving c under a directly is fine, as is clearing a manager.
  MustSetManager("c", "a");
  MustSetManager("b", "");
}

TEST_F(PersonRegistryTest, KeepingADepartedManagerDoesNotBlockOtherChanges) {
  MustCreate(MakePerson("boss"));
  Person worker = MakePerson("worker");
  worker.set_manager_id("boss");
  MustCreate(worker);
  Person leave;
  leave.set_id("boss");
  leave.set_status(iam::v1::PERSON_STATUS_LEFT);
  ASSERT_TRUE(registry_->Update(leave, {"status"}).ok());

  // A full update that keeps the (departed) manager still succeeds...
  Person renamed = *registry_->Get("worker");
  renamed.set_display_name("Renamed");
  EXPECT_TRUE(registry_->Update(renamed, {}).ok());
  // ...but nobody can be newly assigned to them.
  MustCreate(MakePerson("other"));
  Person assign;
  assign.set_id("other");
  assign.set_manager_id("boss");
  EXPECT_EQ(registry_->Update(assign, {"manager_id"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PersonRegistryTest, GetRejectsMalformedIdAndReportsUnknownOne) {
  EXPECT_EQ(registry_->Get("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->Get("nobody").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(PersonRegistryTest, ListPagesThroughFilteredPeopleInIdOrder) {
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    Person person =
        MakePerson(absl::StrFormat("p-%03d", 39 - i));  // out of order
    const int n = 39 - i;
    person.set_site(n % 2 == 0 ? "sz" : "hk");
    person.set_job_code(n % 3 == 0 ? "LINE_OPERATOR" : "TECHNICIAN");
    MustCreate(person);
  }
  for (int n = 0; n < 40; ++n) {
    if (n % 2 == 0 && n % 3 == 0)
      expected.push_back(absl::StrFormat("p-%03d", n));
  }
  ASSERT_EQ(expected.size(), 7u);  // 0, 6, 12, 18, 24, 30, 36

  ListPeopleRequest request;
  request.set_site("sz");
  request.set_job_code("LINE_OPERATOR");
  request.set_page_size(3);
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = registry_->List(request);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->people_size(), 3);
    for (const Person& p : page->people()) seen.push_back(p.id());
    request.set_page_token(page->next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(pages, 3);
}

TEST_F(PersonRegistryTest, ListGivesNoTokenWhenNothingMoreMatches) {
  for (const char* id : {"a", "b", "c"}) MustCreate(MakePerson(id));
  Person other = MakePerson("d");
  other.set_site("hk");
  MustCreate(other);

  ListPeopleRequest request;
  request.set_site("sz");
  request.set_page_size(3);
  auto page = registry_->List(request);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->people_size(), 3);
  EXPECT_EQ(page->next_page_token(), "");
}

TEST_F(PersonRegistryTest, ListFiltersByEveryField) {
  MustCreate(MakePerson("boss"));
  Person a = MakePerson("a");
  a.set_manager_id("boss");
  a.set_org_unit("ou/warehouse");
  a.set_status(iam::v1::PERSON_STATUS_ACTIVE);
  MustCreate(a);
  Person b = MakePerson("b");
  b.set_manager_id("boss");
  MustCreate(b);

  auto list = [&](std::function<void(ListPeopleRequest*)> set) {
    ListPeopleRequest request;
    set(&request);
    auto response = registry_->List(request);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<std::string> ids;
    for (const Person& p : response->people()) ids.push_back(p.id());
    return ids;
  };
  EXPECT_THAT(list([](ListPeopleRequest*) {}), ElementsAre("a", "b", "boss"));
  EXPECT_THAT(list([](ListPeopleRequest* r) { r->set_manager_id("boss"); }),
              ElementsAre("a", "b"));
  EXPECT_THAT(
      list([](ListPeopleRequest* r) { r->set_org_unit("ou/warehouse"); }),
      ElementsAre("a"));
  EXPECT_THAT(list([](ListPeopleRequest* r) {
                r->set_status(iam::v1::PERSON_STATUS_PENDING);
              }),
              ElementsAre("b", "boss"));
  EXPECT_THAT(list([](ListPeopleRequest* r) {
                r->set_manager_id("boss");
                r->set_status(iam::v1::PERSON_STATUS_ACTIVE);
              }),
              ElementsAre("a"));
  EXPECT_THAT(list([](ListPeopleRequest* r) { r->set_job_code("NONE"); }),
              ElementsAre());
}

TEST_F(PersonRegistryTest, ListDefaultsAndRejectsBadPaging) {
  for (int i = 0; i < 120; ++i)
    MustCreate(MakePerson(absl::StrFormat("p-%03d", i)));

  ListPeopleRequest request;
  auto first = registry_->List(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->people_size(), 100);
  EXPECT_NE(first->next_page_token(), "");

  request.set_page_size(1000);
  EXPECT_TRUE(registry_->List(request).ok());
  request.set_page_size(1001);
  EXPECT_EQ(registry_->List(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.set_page_size(-1);
  EXPECT_EQ(registry_->List(request).status().code(),
            absl::StatusCode::kInvalidArgument);

  request.set_page_size(10);
  for (const char* token : {"garbage!", "abc", "cDpwIDE", "eDpwLTAwMQ"}) {
    // Not base64; too short; "p:p 1" (a malformed id); "x:p-001".
    SCOPED_TRACE(token);
    request.set_page_token(token);
    auto page = registry_->List(request);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(page.status().message()), HasSubstr("page_token"));
  }

  request.set_page_token("");
  request.set_status(static_cast<iam::v1::PersonStatus>(42));
  EXPECT_EQ(registry_->List(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PersonRegistryTest, RecordAttestationStampsTimeAndCallerAndRefreshes) {
  MustCreate(MakePerson("p-1"));
  auto first = registry_->RecordAttestation(
      "p-1", iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED, "hr-admin");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->first.attestations_size(), 1);
  EXPECT_EQ(first->first.attestations(0).type(),
            iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED);
  EXPECT_EQ(first->first.attestations(0).recorded_at_unix(), kStartUnix);
  EXPECT_EQ(first->first.attestations(0).recorded_by(), "hr-admin");
  EXPECT_EQ(first->second, store_.CurrentRevision());

  clock_.Advance(absl::Hours(24));
  ASSERT_TRUE(registry_
                  ->RecordAttestation(
                      "p-1", iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED,
                      "security")
                  .ok());
  clock_.Advance(absl::Hours(24));
  auto refreshed = registry_->RecordAttestation(
      "p-1", iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED, "hr-other");
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  const Person& person = refreshed->first;
  ASSERT_EQ(person.attestations_size(), 2);  // one per type
  EXPECT_EQ(person.attestations(0).recorded_at_unix(), kStartUnix + 2 * 86400);
  EXPECT_EQ(person.attestations(0).recorded_by(), "hr-other");
  EXPECT_EQ(person.attestations(1).type(),
            iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED);
  EXPECT_EQ(person.attestations(1).recorded_at_unix(), kStartUnix + 86400);
}

TEST_F(PersonRegistryTest, RecordAttestationRejectsBadInput) {
  MustCreate(MakePerson("p-1"));
  const Revision before = store_.CurrentRevision();
  EXPECT_EQ(registry_
                ->RecordAttestation(
                    "p-1", iam::v1::ATTESTATION_TYPE_UNSPECIFIED, "admin")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry_
          ->RecordAttestation(
              "p-1", iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED, "")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry_
          ->RecordAttestation(
              "nobody", iam::v1::ATTESTATION_TYPE_SECURITY_AGREEMENT_SIGNED,
              "admin")
          .status()
          .code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(store_.CurrentRevision(), before);
}

TEST_F(PersonRegistryTest, ReopenRestoresEveryPersonAndRevision) {
  MustCreate(MakePerson("boss"));
  Person worker = MakePerson("worker");
  worker.set_manager_id("boss");
  worker.add_groups("smt");
  MustCreate(worker);
  ASSERT_TRUE(
      registry_
          ->RecordAttestation("worker",
                              iam::v1::ATTESTATION_TYPE_BACKGROUND_CHECK_PASSED,
                              "security")
          .ok());
  Person leave;
  leave.set_id("boss");
  leave.set_status(iam::v1::PERSON_STATUS_LEFT);
  ASSERT_TRUE(registry_->Update(leave, {"status"}).ok());

  const std::vector<Person> before = registry_->All();
  auto reopened = OpenRegistry();
  const std::vector<Person> after = reopened->All();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString());
  }
  // The rules hold across the restart.
  EXPECT_EQ(reopened->Update(leave, {"status"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reopened->Create(MakePerson("worker")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(PersonRegistryTest, StoredRevisionIsExactWhenOthersCommitInBetween) {
  MustCreate(MakePerson("p-1"));
  // Another service writes to the shared store, so the registry's prediction
  // of its next revision goes stale.
  WriteBatch other;
  other.Put(kAuthzColumn, "x", "y");
  ASSERT_TRUE(store_.Commit(other).ok());
  ASSERT_TRUE(store_.Commit(other).ok());

  Person change = MakePerson("p-1");
  change.set_display_name("Renamed");
  auto updated = registry_->Update(change, {"display_name"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->first.revision(), updated->second);
  EXPECT_EQ(OpenRegistry()->Get("p-1")->revision(), updated->second);
}

TEST_F(PersonRegistryTest, OpenRejectsCorruptData) {
  WriteBatch batch;
  batch.Put(kIdentityColumn, "person/p-1", "\xFF\xFF not a proto");
  ASSERT_TRUE(store_.Commit(batch).ok());
  EXPECT_EQ(PersonRegistry::Open(&store_, &clock_).status().code(),
            absl::StatusCode::kDataLoss);

  WriteBatch mismatch;
  mismatch.Put(kIdentityColumn, "person/p-1",
               MakePerson("p-2").SerializeAsString());
  ASSERT_TRUE(store_.Commit(mismatch).ok());
  EXPECT_EQ(PersonRegistry::Open(&store_, &clock_).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(PersonRegistryTest, ConcurrentWritersAndReadersAgree) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto created =
            registry_->Create(MakePerson(absl::StrFormat("t%d-%03d", t, i)));
        EXPECT_TRUE(created.ok()) << created.status();
        ListPeopleRequest request;
        request.set_page_size(10);
        EXPECT_TRUE(registry_->List(request).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(registry_->All().size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(store_.CurrentRevision(), kThreads * kPerThread);
}

}  // namespace
}  // namespace iam::identity
