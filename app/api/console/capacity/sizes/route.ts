export { putInstanceSizes as PUT } from "@/lib/capacity/console";
