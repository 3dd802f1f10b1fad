// check, permissions, who-can; role / permission / scope list, show, put,
// delete; bind, unbind, bindings. All talk to AuthzService.
#include <string>

#include "absl/strings/str_cat.h"
#include "admin/commands.h"
#include "admin/exit_codes.h"
#include "admin/render.h"
#include "admin/requests.h"
#include "proto/iam/v1/authz.grpc.pb.h"

namespace iam::admin {
namespace {

using iam::v1::AuthzService;

FlagSpec OptionalReason() {
  return {"reason", FlagKind::kValue, "TEXT",
          "why (ticket or free text); recorded in the audit log"};
}

// The result of a put or delete: "role line_lead saved at revision 42".
int PrintWrite(CommandContext& ctx, const iam::v1::WriteResponse& response,
               absl::string_view what, absl::string_view verb) {
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << what << " " << verb << " at revision " << response.revision()
              << "\n";
  }
  return kExitOk;
}

int RunCheck(CommandContext& ctx) {
  iam::v1::CheckRequest request;
  request.set_person_id(ctx.arg(0));
  request.set_permission(ctx.arg(1));
  request.set_scope(ctx.arg(2));
  iam::v1::CheckResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().Check(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << RenderCheck(response);
  }
  return response.allowed() ? kExitOk : kExitDenied;
}

int RunPermissions(CommandContext& ctx) {
  iam::v1::ListPermissionsRequest request;
  request.set_person_id(ctx.arg(0));
  request.set_scope(ctx.args().Value("scope").value_or(""));
  iam::v1::ListPermissionsResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().ListPermissions(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.Print(GrantedPermissionsTable(response));
    ctx.out() << "revision: " << response.revision() << "\n";
  }
  return kExitOk;
}

int RunWhoCan(CommandContext& ctx) {
  iam::v1::WhoCanRequest request;
  request.set_permission(ctx.arg(0));
  request.set_scope(ctx.arg(1));
  iam::v1::WhoCanResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().WhoCan(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.Print(PersonIdsTable(response.person_ids()));
    ctx.out() << "revision: " << response.revision() << "\n";
  }
  return kExitOk;
}

grpc::Status GetPolicy(CommandContext& ctx,
                       iam::v1::GetPolicyResponse* response) {
  return ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().GetPolicy(c, iam::v1::GetPolicyRequest(),
                                          response);
  });
}

// role / permission / scope list: the current policy's objects of one kind.
int RunPolicyList(CommandContext& ctx,
                  Table (*table)(const iam::v1::PolicyDocument&),
                  void (*keep_only)(iam::v1::PolicyDocument*)) {
  iam::v1::GetPolicyResponse response;
  const grpc::Status status = GetPolicy(ctx, &response);
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    keep_only(response.mutable_policy());
    ctx.PrintJson(response);
  } else {
    ctx.Print(table(response.policy()));
  }
  return kExitOk;
}

int RunRoleShow(CommandContext& ctx) {
  iam::v1::GetPolicyResponse response;
  const grpc::Status status = GetPolicy(ctx, &response);
  if (!status.ok()) return ctx.RpcError(status);
  for (const iam::v1::Role& role : response.policy().roles()) {
    if (role.name() != ctx.arg(0)) continue;
    if (ctx.json()) {
      ctx.PrintJson(role);
    } else {
      ctx.out() << RenderRole(role, response.policy(), response.revision());
    }
    return kExitOk;
  }
  return ctx.RpcError(
      grpc::Status(grpc::StatusCode::NOT_FOUND,
                   absl::StrCat("no role \"", ctx.arg(0), "\" at revision ",
                                response.revision())));
}

int RunRolePut(CommandContext& ctx) {
  absl::StatusOr<iam::v1::PutRoleRequest> request =
      BuildPutRoleRequest(ctx.args());
  if (!request.ok()) return ctx.UsageError(request.status().message());
  iam::v1::WriteResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().PutRole(c, *request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintWrite(ctx, response, absl::StrCat("role ", ctx.arg(0)), "saved");
}

int RunPermissionPut(CommandContext& ctx) {
  iam::v1::PutPermissionRequest request;
  request.mutable_permission()->set_name(ctx.arg(0));
  request.mutable_permission()->set_description(
      ctx.args().Value("description").value_or(""));
  request.set_reason(ctx.args().Value("reason").value_or(""));
  iam::v1::WriteResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().PutPermission(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintWrite(ctx, response, absl::StrCat("permission ", ctx.arg(0)),
                    "saved");
}

int RunScopePut(CommandContext& ctx) {
  iam::v1::PutScopeRequest request;
  request.mutable_scope()->set_path(ctx.arg(0));
  request.mutable_scope()->set_description(
      ctx.args().Value("description").value_or(""));
  request.set_reason(ctx.args().Value("reason").value_or(""));
  iam::v1::WriteResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().PutScope(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintWrite(ctx, response, absl::StrCat("scope ", ctx.arg(0)), "saved");
}

using DeleteMethod = grpc::Status (AuthzService::StubInterface::*)(
    grpc::ClientContext*, const iam::v1::DeleteRequest&,
    iam::v1::WriteResponse*);

// role / permission / scope delete, and unbind (whose reason is required).
int RunDelete(CommandContext& ctx, DeleteMethod method, absl::string_view kind,
              bool reason_required) {
  iam::v1::DeleteRequest request;
  request.set_name(ctx.arg(0));
  if (reason_required) {
    absl::StatusOr<std::string> reason = RequiredReason(ctx.args());
    if (!reason.ok()) return ctx.UsageError(reason.status().message());
    request.set_reason(*reason);
  } else {
    request.set_reason(ctx.args().Value("reason").value_or(""));
  }
  iam::v1::WriteResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return (ctx.server().authz().*method)(c, request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  return PrintWrite(ctx, response, absl::StrCat(kind, " ", ctx.arg(0)),
                    "deleted");
}

int RunBind(CommandContext& ctx) {
  absl::StatusOr<iam::v1::CreateBindingRequest> request =
      BuildCreateBindingRequest(ctx.args(), ctx.Now());
  if (!request.ok()) return ctx.UsageError(request.status().message());
  iam::v1::CreateBindingResponse response;
  const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
    return ctx.server().authz().CreateBinding(c, *request, &response);
  });
  if (!status.ok()) return ctx.RpcError(status);
  if (ctx.json()) {
    ctx.PrintJson(response);
  } else {
    ctx.out() << RenderCreatedBinding(response);
  }
  return kExitOk;
}

int RunBindings(CommandContext& ctx) {
  absl::StatusOr<iam::v1::ListBindingsRequest> request =
      BuildListBindingsRequest(ctx.args());
  if (!request.ok()) return ctx.UsageError(request.status().message());
  iam::v1::ListBindingsResponse all;
  while (true) {
    iam::v1::ListBindingsResponse page;
    const grpc::Status status = ctx.Call([&](grpc::ClientContext* c) {
      return ctx.server().authz().ListBindings(c, *request, &page);
    });
    if (!status.ok()) return ctx.RpcError(status);
    for (iam::v1::RoleBinding& binding : *page.mutable_bindings()) {
      *all.add_bindings() = std::move(binding);
    }
    all.set_revision(page.revision());
    if (page.next_page_token().empty()) break;
    if (page.next_page_token() == request->page_token()) {
      return ctx.RpcError(grpc::Status(grpc::StatusCode::INTERNAL,
                                       "server repeated a page token"));
    }
    request->set_page_token(page.next_page_token());
  }
  if (ctx.json()) {
    ctx.PrintJson(all);
  } else {
    ctx.Print(BindingsTable(all.bindings()));
  }
  return kExitOk;
}

void KeepRoles(iam::v1::PolicyDocument* policy) {
  policy->clear_permissions();
  policy->clear_scopes();
}
void KeepPermissions(iam::v1::PolicyDocument* policy) {
  policy->clear_roles();
  policy->clear_scopes();
}
void KeepScopes(iam::v1::PolicyDocument* policy) {
  policy->clear_permissions();
  policy->clear_roles();
}

}  // namespace

std::vector<Command> AuthzCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{"check"},
       "PERSON PERMISSION SCOPE",
       "may PERSON use PERMISSION at SCOPE?",
       "Prints ALLOW or DENY, the reason, the granting binding and role path, "
       "and\n"
       "the revision decided at. Exits 0 when allowed, 1 when denied.",
       {},
       3,
       3,
       true,
       RunCheck});
  commands.push_back({{"permissions"},
                      "PERSON [--scope S]",
                      "every permission PERSON holds, and where from",
                      "",
                      {{"scope", FlagKind::kValue, "SCOPE",
                        "only permissions effective at this scope"}},
                      1,
                      1,
                      true,
                      RunPermissions});
  commands.push_back({{"who-can"},
                      "PERMISSION SCOPE",
                      "active people allowed PERMISSION at SCOPE",
                      "",
                      {},
                      2,
                      2,
                      true,
                      RunWhoCan});

  commands.push_back({{"role", "list"},
                      "",
                      "roles of the current policy",
                      "",
                      {},
                      0,
                      0,
                      true,
                      [](CommandContext& ctx) {
                        return RunPolicyList(ctx, RolesTable, KeepRoles);
                      }});
  commands.push_back(
      {{"role", "show"},
       "NAME",
       "a role, with the permissions it grants through inheritance",
       "",
       {},
       1,
       1,
       true,
       RunRoleShow});
  commands.push_back(
      {{"role", "put"},
       "NAME [--permission P]... [--inherits R]... [--description D]",
       "create or replace a role",
       "Replaces the whole role: permissions and parents not given are "
       "removed.",
       RolePutFlags(),
       1,
       1,
       true,
       RunRolePut});
  commands.push_back({{"role", "delete"},
                      "NAME",
                      "delete a role",
                      "",
                      {OptionalReason()},
                      1,
                      1,
                      true,
                      [](CommandContext& ctx) {
                        return RunDelete(
                            ctx, &AuthzService::StubInterface::DeleteRole,
                            "role", false);
                      }});

  commands.push_back({{"permission", "list"},
                      "",
                      "permissions of the current policy",
                      "",
                      {},
                      0,
                      0,
                      true,
                      [](CommandContext& ctx) {
                        return RunPolicyList(ctx, PermissionsTable,
                                             KeepPermissions);
                      }});
  commands.push_back(
      {{"permission", "put"},
       "NAME [--description D]",
       "create or replace a permission (system.resource:action)",
       "",
       {{"description", FlagKind::kValue, "TEXT", "what it allows"},
        OptionalReason()},
       1,
       1,
       true,
       RunPermissionPut});
  commands.push_back({{"permission", "delete"},
                      "NAME",
                      "delete a permission",
                      "",
                      {OptionalReason()},
                      1,
                      1,
                      true,
                      [](CommandContext& ctx) {
                        return RunDelete(
                            ctx, &AuthzService::StubInterface::DeletePermission,
                            "permission", false);
                      }});

  commands.push_back({{"scope", "list"},
                      "",
                      "scopes of the current policy",
                      "",
                      {},
                      0,
                      0,
                      true,
                      [](CommandContext& ctx) {
                        return RunPolicyList(ctx, ScopesTable, KeepScopes);
                      }});
  commands.push_back(
      {{"scope", "put"},
       "PATH [--description D]",
       "create or replace a scope, e.g. site/sz/line/3",
       "",
       {{"description", FlagKind::kValue, "TEXT", "what the scope is"},
        OptionalReason()},
       1,
       1,
       true,
       RunScopePut});
  commands.push_back({{"scope", "delete"},
                      "PATH",
                      "delete a scope",
                      "",
                      {OptionalReason()},
                      1,
                      1,
                      true,
                      [](CommandContext& ctx) {
                        return RunDelete(
                            ctx, &AuthzService::StubInterface::DeleteScope,
                            "scope", false);
                      }});

  commands.push_back(
      {{"bind"},
       "(--person P | --group G) --role R --scope S [--expires T | --for D] "
       "--reason TEXT",
       "grant a role at a scope to a person or group",
       "Prints the new binding's id and the revision it committed at. Without\n"
       "--expires or --for the binding never expires.",
       BindFlags(),
       0,
       0,
       true,
       RunBind});
  commands.push_back(
      {{"unbind"},
       "BINDING_ID --reason TEXT",
       "delete a role binding",
       "",
       {{"reason", FlagKind::kValue, "TEXT",
         "why (ticket or free text); required, recorded in the audit log"}},
       1,
       1,
       true,
       [](CommandContext& ctx) {
         return RunDelete(ctx, &AuthzService::StubInterface::DeleteBinding,
                          "binding", true);
       }});
  commands.push_back({{"bindings"},
                      "[--person P | --group G] [--role R] [--scope S]",
                      "list role bindings (every page)",
                      "",
                      BindingsFlags(),
                      0,
                      0,
                      true,
                      RunBindings});
  return commands;
}

}  // namespace iam::admin
