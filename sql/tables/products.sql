-- Reference: the product catalogue (schemas/reference/products.schema.json), versioned like cells.
CREATE TABLE products (
  product_id STRING,
  name STRING,
  kind STRING,
  family STRING${time_attributes},
  PRIMARY KEY (product_id) NOT ENFORCED
) WITH (
  ${connector}
);
