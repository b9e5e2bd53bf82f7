#include "commands.hpp"

#include "events/errors.hpp"

namespace bazaar::catalog {
namespace {

Role role_of(const std::string& text) {
  const auto role = parse_role(text);
  if (!role) throw events::PermanentError("unknown actor_role " + text);
  return *role;
}

}  // namespace

CreateProductCommand command_of(const contracts::catalog::CreateProductV1& payload) {
  CreateProductCommand cmd;
  Product& p = cmd.product;
  p.product_id = payload.product_id;
  p.seller_id = payload.seller_id;
  p.name = payload.name;
  p.description = payload.description.value_or("");
  p.price = payload.price;
  p.currency = payload.currency;
  p.category = payload.category;
  cmd.initial_stock = payload.initial_stock;
  if (payload.actor_id || payload.actor_role) {
    cmd.actor = Actor{payload.actor_id.value_or(p.seller_id),
                      role_of(payload.actor_role.value_or("seller"))};
  } else {
    cmd.actor = Actor{p.seller_id, Role::seller};
  }
  return cmd;
}

UpdateProductCommand command_of(const contracts::catalog::UpdateProductV1& payload) {
  return UpdateProductCommand{.product_id = payload.product_id,
                              .name = payload.name,
                              .description = payload.description,
                              .price = payload.price,
                              .category = payload.category,
                              .actor = Actor{payload.actor_id, role_of(payload.actor_role)}};
}

DeleteProductCommand command_of(const contracts::catalog::DeleteProductV1& payload) {
  return DeleteProductCommand{.product_id = payload.product_id,
                              .actor = Actor{payload.actor_id, role_of(payload.actor_role)}};
}

void apply_changes(Product& p, const UpdateProductCommand& cmd) {
  if (cmd.name) p.name = *cmd.name;
  if (cmd.description) p.description = *cmd.description;
  if (cmd.price) p.price = *cmd.price;
  if (cmd.category) p.category = *cmd.category;
}

}  // namespace bazaar::catalog
