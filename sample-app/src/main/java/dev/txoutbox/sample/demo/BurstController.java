package dev.txoutbox.sample.demo;

import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /demo/burst?orders=N}: places N orders at once (500 unless given, at most
 * {@value BurstService#MAX_ORDERS}) and answers, once the relay has published them all, with a {@link BurstReport}.
 * The request takes as long as the burst: seconds for a few thousand orders.
 */
@RestController
@RequestMapping("/demo")
class BurstController {

    private final BurstService bursts;

    BurstController(BurstService bursts) {
        this.bursts = bursts;
    }

    @PostMapping("/burst")
    BurstReport burst(@RequestParam(defaultValue = "500") int orders) {
        return this.bursts.burst(orders);
    }
}
