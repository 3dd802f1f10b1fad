#include "services/password/registry_person_directory.h"

#include <memory>

#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::password {
namespace {

class RegistryPersonDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = identity::PersonRegistry::Open(&store_, &clock_);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
    iam::v1::Person p;
    p.set_id("p-1");
    p.set_display_name("Wang Fang");
    p.set_org_unit("ou/smt");
    p.set_job_code("OPERATOR");
    p.set_site("sz");
    p.set_status(iam::v1::PERSON_STATUS_ACTIVE);
    ASSERT_TRUE(registry_->Create(p).ok());
  }

  MemoryStore store_;
  FakeClock clock_{absl::FromUnixSeconds(1790000000)};
  std::unique_ptr<identity::PersonRegistry> registry_;
};

TEST_F(RegistryPersonDirectoryTest, ReadsTheRegistrysCurrentStatus) {
  RegistryPersonDirectory directory(registry_.get());
  absl::StatusOr<PersonRecord> found = directory.Get("p-1");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->id, "p-1");
  EXPECT_EQ(found->display_name, "Wang Fang");
  EXPECT_EQ(found->status, iam::v1::PERSON_STATUS_ACTIVE);

  // A suspension is seen by the next read: no cache in between.
  iam::v1::Person suspended = *registry_->Get("p-1");
  suspended.set_status(iam::v1::PERSON_STATUS_SUSPENDED);
  ASSERT_TRUE(registry_->Update(suspended, {"status"}).ok());
  EXPECT_EQ(directory.Get("p-1")->status, iam::v1::PERSON_STATUS_SUSPENDED);
}

TEST_F(RegistryPersonDirectoryTest, AnUnknownPersonIsNotFound) {
  RegistryPersonDirectory directory(registry_.get());
  absl::StatusOr<PersonRecord> missing = directory.Get("nobody");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_NE(missing.status().message().find("nobody"), std::string::npos);
}

}  // namespace
}  // namespace iam::password
