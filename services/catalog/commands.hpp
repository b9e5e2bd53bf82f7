#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "contracts/contracts.hpp"
#include "product.hpp"
#include "product_policy.hpp"

namespace bazaar::catalog {

/// CreateProduct: the product to list (without timestamps) and its initial stock.
struct CreateProductCommand {
  Product product;
  std::int64_t initial_stock = 0;
  Actor actor;
};

/// UpdateProduct: the fields to change; an absent field keeps its value.
struct UpdateProductCommand {
  std::string product_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::int64_t> price;
  std::optional<std::string> category;
  Actor actor;
};

/// DeleteProduct.
struct DeleteProductCommand {
  std::string product_id;
  Actor actor;
};

/// The command of a CreateProduct payload. Without actor fields the seller is the actor, as a
/// seller listing for itself. An unknown role is a PermanentError.
CreateProductCommand command_of(const contracts::catalog::CreateProductV1& payload);
/// The command of an UpdateProduct payload.
UpdateProductCommand command_of(const contracts::catalog::UpdateProductV1& payload);
/// The command of a DeleteProduct payload.
DeleteProductCommand command_of(const contracts::catalog::DeleteProductV1& payload);

/// `p` with the command's fields applied; id, seller, currency and times are left alone.
void apply_changes(Product& p, const UpdateProductCommand& cmd);

}  // namespace bazaar::catalog
