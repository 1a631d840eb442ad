export { getCapacity as GET } from "@/lib/capacity/console";
