#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "events/result.hpp"
#include "product.hpp"
#include "product_policy.hpp"

namespace bazaar::catalog {

/// The ce_types of the commands the catalog applies.
inline constexpr const char* kCreateProduct = "bazaar.catalog.CreateProduct.v1";
inline constexpr const char* kUpdateProduct = "bazaar.catalog.UpdateProduct.v1";
inline constexpr const char* kDeleteProduct = "bazaar.catalog.DeleteProduct.v1";

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

/// Decodes a CreateProduct payload that passed its schema. Without actor fields the seller
/// is the actor, as a seller listing for itself.
events::Result<CreateProductCommand> parse_create(const boost::json::object& payload);
/// Decodes an UpdateProduct payload that passed its schema.
events::Result<UpdateProductCommand> parse_update(const boost::json::object& payload);
/// Decodes a DeleteProduct payload that passed its schema.
events::Result<DeleteProductCommand> parse_delete(const boost::json::object& payload);

/// `p` with the command's fields applied; id, seller, currency and times are left alone.
void apply_changes(Product& p, const UpdateProductCommand& cmd);

}  // namespace bazaar::catalog
