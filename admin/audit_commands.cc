// audit query: reads AuditService, following pages up to --limit.
#include <algorithm>
#include <string>

#include "admin/commands.h"
#include "admin/exit_codes.h"
#include "admin/render.h"
#include "admin/requests.h"
#include "proto/iam/v1/audit.grpc.pb.h"

namespace iam::admin {
namespace {

// The server's largest page.
constexpr int64_t kMaxAuditPage = 1000;

int RunAuditQuery(CommandContext& ctx) {
  absl::StatusOr<AuditQuery> query = BuildAuditQuery(ctx.args());
  if (!query.ok()) return ctx.UsageError(query.status().message());
  iam::v1::QueryAuditRequest& request = query->request;
  iam::v1::QueryAuditResponse all;
  bool truncated = false;  // A page held more than asked for.
  while (all.records_size() < query->limit) {
    const int64_t wanted = query->limit - all.records_size();
    request.set_page_size(
        static_cast<int32_t>(std::min(wanted, kMaxAuditPage)));
    iam::v1::QueryAuditResponse page;
    const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
      return ctx.server().audit().Query(c, request, &page);
    });
    if (!status.ok()) return ctx.RpcError(status);
    for (iam::v1::AuditRecord& record : *page.mutable_records()) {
      if (all.records_size() == query->limit) {
        // A page larger than asked for: its token would skip what is cut.
        truncated = true;
        page.clear_next_page_token();
        break;
      }
      *all.add_records() = std::move(record);
    }
    all.set_next_page_token(page.next_page_token());
    if (page.next_page_token().empty()) break;
    if (page.next_page_token() == request.page_token()) {
      return ctx.RpcError(grpc::Status(grpc::StatusCode::INTERNAL,
                                       "server repeated a page token"));
    }
    request.set_page_token(page.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
  } else {
    ctx.Print(AuditTable(all.records()));
    if (truncated || !all.next_page_token().empty()) {
      ctx.err() << "stopped at --limit " << query->limit
                << "; there may be more records\n";
    }
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> AuditCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{"audit", "query"},
       "[filters] [--since T] [--until T] [--limit N]",
       "audit records in sequence order",
       "Follows pages until --limit records (default 100). Times are RFC3339 "
       "with a\n"
       "zone offset, e.g. 2026-12-31T18:00:00Z; they print in UTC.",
       AuditQueryFlags(),
       0,
       0,
       true,
       RunAuditQuery});
  return commands;
}

}  // namespace iam::admin
