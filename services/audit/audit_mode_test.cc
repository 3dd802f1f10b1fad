#include "services/audit/audit_mode.h"

#include "gtest/gtest.h"

namespace iam::audit {
namespace {

using iam::v1::AUDIT_MODE_ASYNC;
using iam::v1::AUDIT_MODE_DENIALS_ONLY;
using iam::v1::AUDIT_MODE_SYNC;
using iam::v1::AUDIT_MODE_UNSPECIFIED;

TEST(EffectiveAuditModeTest, FirmwareAndKeyAreaPermissionsDefaultToSync) {
  EXPECT_EQ(EffectiveAuditMode("burning.firmware:flash", AUDIT_MODE_UNSPECIFIED),
            AUDIT_MODE_SYNC);
  EXPECT_EQ(EffectiveAuditMode("burning.station:view", AUDIT_MODE_UNSPECIFIED),
            AUDIT_MODE_SYNC);
  EXPECT_EQ(EffectiveAuditMode("wms.key_parts:issue", AUDIT_MODE_UNSPECIFIED),
            AUDIT_MODE_SYNC);
  EXPECT_EQ(EffectiveAuditMode("area.burning:enter", AUDIT_MODE_UNSPECIFIED),
            AUDIT_MODE_SYNC);
}

TEST(EffectiveAuditModeTest, OtherPermissionsDefaultToAsync) {
  EXPECT_EQ(EffectiveAuditMode("mes.work_order:release", AUDIT_MODE_UNSPECIFIED),
            AUDIT_MODE_ASYNC);
  // "key" elsewhere in the name does not count.
  EXPECT_EQ(EffectiveAuditMode("mes.monkey:view", AUDIT_MODE_UNSPECIFIED),
            AUDIT_MODE_ASYNC);
  EXPECT_EQ(EffectiveAuditMode("nodots", AUDIT_MODE_UNSPECIFIED), AUDIT_MODE_ASYNC);
}

TEST(EffectiveAuditModeTest, DeclaredModeWins) {
  EXPECT_EQ(EffectiveAuditMode("burning.firmware:flash", AUDIT_MODE_ASYNC),
            AUDIT_MODE_ASYNC);
  EXPECT_EQ(EffectiveAuditMode("mes.work_order:view", AUDIT_MODE_DENIALS_ONLY),
            AUDIT_MODE_DENIALS_ONLY);
  EXPECT_EQ(EffectiveAuditMode("mes.work_order:view", AUDIT_MODE_SYNC),
            AUDIT_MODE_SYNC);
}

}  // namespace
}  // namespace iam::audit
