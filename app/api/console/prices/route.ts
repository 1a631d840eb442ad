export { listPrices as GET } from "@/lib/control-plane/console/usage";
