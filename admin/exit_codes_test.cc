#include "admin/exit_codes.h"

#include "gtest/gtest.h"

namespace iam::admin {
namespace {

TEST(ExitCodeTest, MapsGrpcCodesToTheDocumentedExitCodes) {
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::INVALID_ARGUMENT), 3);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::OUT_OF_RANGE), 3);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::PERMISSION_DENIED), 4);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::UNAUTHENTICATED), 4);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::NOT_FOUND), 5);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::UNAVAILABLE), 6);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::DEADLINE_EXCEEDED), 6);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::FAILED_PRECONDITION), 7);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::ALREADY_EXISTS), 7);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::INTERNAL), 8);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::UNKNOWN), 8);
  EXPECT_EQ(ExitCodeFor(grpc::StatusCode::ABORTED), 8);
}

TEST(ExitCodeTest, MapsAbslCodesLikeGrpcCodes) {
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kNotFound), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kFailedPrecondition),
            kExitFailedPrecondition);
  EXPECT_EQ(ExitCodeFor(absl::StatusCode::kInvalidArgument), kExitInvalid);
}

TEST(ExitCodeTest, NamesCodesAsGrpcSpellsThem) {
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::PERMISSION_DENIED),
            "PERMISSION_DENIED");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::UNAVAILABLE), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(static_cast<grpc::StatusCode>(99)), "CODE_99");
}

TEST(ExitCodeTest, HelpListsEveryCode) {
  const std::string help = ExitCodeHelp();
  for (int code = 0; code <= 8; ++code) {
    EXPECT_NE(help.find("  " + std::to_string(code) + "  "), std::string::npos)
        << code;
  }
}

}  // namespace
}  // namespace iam::admin
