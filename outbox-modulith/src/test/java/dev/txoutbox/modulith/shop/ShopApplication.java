package dev.txoutbox.modulith.shop;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.modulith.Modulithic;

/** A Spring Modulith application of two modules, orders and inventory, whose order events go out through the outbox. */
@Modulithic
@SpringBootApplication
public class ShopApplication {}
