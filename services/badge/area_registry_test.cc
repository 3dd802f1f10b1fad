#include "services/badge/area_registry.h"

#include <memory>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/common/memory_store.h"

namespace iam::badge {
namespace {

TEST(AreaRegistryTest, AppliesTheSamplePolicyAndReloadsIt) {
  MemoryStore store({"badge"});
  auto registry = AreaRegistry::Open(&store);
  ASSERT_TRUE(registry.ok());
  EXPECT_TRUE((*registry)->empty());
  ASSERT_TRUE(ApplyAreasFromPolicyDir("policy", false, registry->get()).ok());
  EXPECT_GE((*registry)->snapshot()->areas().size(), 5u);
  const Revision applied = store.CurrentRevision();
  EXPECT_GT(applied, 0);
  // Not empty any more: without `always` nothing is re-applied.
  ASSERT_TRUE(ApplyAreasFromPolicyDir("policy", false, registry->get()).ok());
  // Re-applying the same policy commits nothing.
  ASSERT_TRUE(ApplyAreasFromPolicyDir("policy", true, registry->get()).ok());
  EXPECT_EQ(store.CurrentRevision(), applied);
  auto reopened = AreaRegistry::Open(&store);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->snapshot()->areas().size(),
            (*registry)->snapshot()->areas().size());
}

TEST(AreaRegistryTest, RejectsAreasOnUndeclaredScopesAndChangesNothing) {
  MemoryStore store({"badge"});
  auto registry = AreaRegistry::Open(&store);
  ASSERT_TRUE(registry.ok());
  iam::v1::PolicyDocument doc;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    scopes { path: "site/sz" }
    roles { name: "r" }
    areas {
      id: "a" scope: "site/sz/area/x" security_level: 1 owner: "p"
      time_zone: "UTC" doors { id: "d" } access_levels { name: "l" roles: "r" }
    }
  )pb", &doc));
  auto applied = (*registry)->Apply(doc);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*registry)->empty());
  EXPECT_EQ(store.CurrentRevision(), 0);
  doc.mutable_areas(0)->set_scope("site/sz");
  EXPECT_TRUE((*registry)->Apply(doc).ok());
  // Removing an area deletes it.
  doc.clear_areas();
  ASSERT_TRUE((*registry)->Apply(doc).ok());
  EXPECT_TRUE((*registry)->empty());
}

}  // namespace
}  // namespace iam::badge
